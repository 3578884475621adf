"""GET/PUT /receipts/template: defaults before any PUT, validation that changes nothing, partial
updates, and stores' own templates."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.receipts.models import ReceiptTemplate
from apps.receipts.tests.conftest import checkout
from apps.tenants.models import TenantSettings
from tests.factories.sales import line

pytestmark = pytest.mark.django_db

URL = "/api/v1/receipts/template"
DEFAULTS = {
    "header": "",
    "footer": "",
    "showLogo": True,
    "fields": {
        "cashier": True,
        "customer": True,
        "taxSummary": True,
        "qr": True,
        "loyalty": True,
        "returnPolicy": False,
    },
    "returnPolicyText": "",
    "paper": "80mm",
    "locale": "en_US",
    "storeId": None,
}


def receipt_settings(world) -> dict:
    return dict(
        TenantSettings.objects.filter(tenant=world.tenant).values(
            "receipt_header", "receipt_footer", "receipt_show_logo", "receipt_fields",
            "receipt_return_policy", "receipt_paper_width_mm", "receipt_locale",
        ).get()
    )  # fmt: skip


def test_get_answers_the_defaults_before_any_put(api, world_a):
    response = api(world_a.manager).get(URL)
    assert response.status_code == 200
    assert response.json()["data"] == DEFAULTS


def test_put_sets_what_is_sent_and_keeps_the_rest(api, world_a):
    client = api(world_a.admin)
    first = client.put(
        URL,
        {"header": "Open 8-20", "fields": {"qr": False}, "locale": "pt-PT", "paper": "A4"},
        format="json",
    )
    assert first.status_code == 200, first.content
    second = client.put(
        URL, {"footer": "Obrigado", "fields": {"returnPolicy": True}}, format="json"
    )
    assert second.status_code == 200
    expected = {
        **DEFAULTS,
        "header": "Open 8-20",
        "footer": "Obrigado",
        "fields": {**DEFAULTS["fields"], "qr": False, "returnPolicy": True},
        "locale": "pt_PT",
        "paper": "A4",
    }
    assert second.json()["data"] == expected
    assert client.get(URL).json()["data"] == expected
    # one place: the company's settings say the same
    assert (
        api(world_a.admin).get("/api/v1/tenants/me/settings").json()["data"]["receiptPaperWidthMm"]
        == 210
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paper": "110mm"}, "paper"),
        ({"locale": "xx_NOWHERE"}, "locale"),
        ({"fields": {"barcode": True}}, "fields.barcode"),
        ({"fields": {"qr": "yes"}}, "fields.qr"),
        ({"header": "x" * 1001}, "header"),
        ({"showLogo": "no"}, "showLogo"),
    ],
)
def test_invalid_templates_are_400_and_change_nothing(api, world_a, body, field):
    before, audit = receipt_settings(world_a), AuditLog.objects.count()
    response = api(world_a.admin).put(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == [field]
    assert (receipt_settings(world_a), AuditLog.objects.count()) == (before, audit)


def test_a_store_gets_its_own_template(api, world_a, goods):
    client = api(world_a.admin)
    store = str(world_a.store.pk)
    assert client.put(URL, {"header": "Company header"}, format="json").status_code == 200
    inherited = client.get(URL, {"storeId": store}).json()["data"]
    assert (inherited["header"], inherited["storeId"]) == ("Company header", None)

    own = client.put(
        f"{URL}?storeId={store}", {"footer": "Store footer", "paper": "58mm"}, format="json"
    )
    assert own.status_code == 200, own.content
    assert own.json()["data"] == {
        **DEFAULTS,
        "header": "Company header",  # copied from the company's when created
        "footer": "Store footer",
        "paper": "58mm",
        "storeId": store,
    }
    entry = AuditLog.objects.filter(action="receipt.template.create").get()
    assert (entry.actor_id, entry.after["store_id"], entry.after["footer"]) == (
        world_a.admin.pk, store, "Store footer",
    )  # fmt: skip
    # the company's template changing no longer changes the store's
    assert client.put(URL, {"header": "New company header"}, format="json").status_code == 200
    assert client.get(URL, {"storeId": store}).json()["data"]["header"] == "Company header"
    again = client.put(f"{URL}?storeId={store}", {"header": "Shop"}, format="json")
    assert again.json()["data"]["header"] == "Shop"
    update = AuditLog.objects.filter(action="receipt.template.update").get()
    assert (update.before, update.after) == ({"header": "Company header"}, {"header": "Shop"})
    with tenant_context(world_a.tenant):
        assert ReceiptTemplate.objects.count() == 1
    # the store's sales print with the store's template
    sale = checkout(api(world_a.cashier), world_a, line(goods.bread))
    data = client.get(f"/api/v1/receipts/sale/{sale['id']}").json()["data"]["data"]
    assert (data["header"], data["footer"], data["paper"]) == ("Shop", "Store footer", "58mm")


def test_another_companys_store_is_404(api, world_a, world_b):
    client = api(world_a.admin)
    response = client.put(f"{URL}?storeId={world_b.store.pk}", {"header": "Hijack"}, format="json")
    assert response.status_code == 404
    assert client.get(URL, {"storeId": str(world_b.store.pk)}).status_code == 404
    with tenant_context(world_b.tenant):
        assert ReceiptTemplate.objects.count() == 0
    bad = client.get(URL, {"storeId": "not-a-uuid"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [
        {"field": "storeId", "message": "Must be a valid UUID."}
    ]


def test_locale_formats_numbers_and_dates(api, world_a, goods):
    client = api(world_a.admin)
    assert client.put(URL, {"locale": "de_DE"}, format="json").status_code == 200
    sale = checkout(client, world_a, *[line(goods.wine, "100")])
    text = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "text"}).content.decode()
    assert "1.240,00" in text  # 100 x 12.40: German grouping and decimals
    assert "100 x 12,40" in text


def test_the_settings_receipt_fields_are_the_templates(api, world_a):
    client = api(world_a.admin)
    response = client.patch(
        "/api/v1/tenants/me/settings",
        {"receiptFields": {"qr": False}, "receiptLocale": "fr-FR"},
        format="json",
    )
    assert response.status_code == 200, response.content
    template = client.get(URL).json()["data"]
    assert (template["fields"]["qr"], template["fields"]["cashier"], template["locale"]) == (
        False, True, "fr_FR",
    )  # fmt: skip
    before = receipt_settings(world_a)
    bad = client.patch(
        "/api/v1/tenants/me/settings", {"receiptFields": {"logo": True, "qr": 1}}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [
        {"field": "receiptFields.logo", "message": "Unknown field."},
        {"field": "receiptFields.qr", "message": "Must be true or false."},
    ]
    assert receipt_settings(world_a) == before
