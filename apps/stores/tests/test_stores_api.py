from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.stores.models import Store, StoreAssignment

pytestmark = pytest.mark.django_db

STORES = "/api/v1/stores"


def test_create_store_normalises_code_and_audits(api, world_a):
    body = {"name": "Harbour", "code": "hb-1", "kind": "RETAIL", "timezone": "Europe/Lisbon"}
    response = api(world_a.manager).post(STORES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["code"], data["kind"], data["timezone"]) == ("HB-1", "RETAIL", "Europe/Lisbon")
    entry = AuditLog.objects.get(action="store.create", entity_id=data["id"])
    assert entry.after["code"] == "HB-1" and entry.before is None


def test_duplicate_code_is_409_case_insensitively(api, world_a):
    response = api(world_a.admin).post(STORES, {"name": "Again", "code": "s1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "code", "message": "Already in use."}]
    with tenant_context(world_a.tenant):
        assert Store.objects.filter(name="Again").count() == 0


def test_same_code_in_another_tenant_is_fine(api, world_b):
    assert (
        api(world_b.admin).post(STORES, {"name": "X", "code": "NEW1"}, format="json").status_code
        == 201
    )
    # world B already has S1, like A: codes are per company


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "T", "code": "T1", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "T", "code": "bad code!"}, "code"),
        ({"name": "T", "code": "T1", "kind": "KIOSK"}, "kind"),
        ({"name": "   ", "code": "T1"}, "name"),
        ({"code": "T1"}, "name"),
        ({"name": "T", "code": "T1", "email": "nope"}, "email"),
    ],
)
def test_invalid_store_is_400_with_details(api, world_a, body, field):
    response = api(world_a.admin).post(STORES, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
    with tenant_context(world_a.tenant):
        assert not Store.objects.filter(code="T1").exists()


def test_update_and_audit_changed_fields_only(api, world_a):
    url = f"{STORES}/{world_a.store.pk}"
    response = api(world_a.admin).patch(
        url, {"phone": "+351 200", "receiptHeader": "Welcome"}, format="json"
    )
    assert response.status_code == 200
    entry = AuditLog.objects.get(action="store.update", entity_id=str(world_a.store.pk))
    assert entry.before == {"phone": "", "receipt_header": ""}
    assert entry.after == {"phone": "+351 200", "receipt_header": "Welcome"}


def test_update_to_a_used_code_is_409(api, world_a):
    url = f"{STORES}/{world_a.store.pk}"
    response = api(world_a.admin).patch(url, {"code": "S2"}, format="json")
    assert response.status_code == 409
    with tenant_context(world_a.tenant):
        assert Store.objects.get(pk=world_a.store.pk).code == "S1"


def test_soft_delete_hides_the_store_frees_its_code_and_unassigns_staff(api, world_a):
    client = api(world_a.admin)
    url = f"{STORES}/{world_a.store.pk}"
    assert client.delete(url).status_code == 200
    assert client.get(url).status_code == 404
    assert str(world_a.store.pk) not in [s["id"] for s in client.get(STORES).json()["data"]]
    with tenant_context(world_a.tenant):
        assert Store.objects.get(pk=world_a.store.pk).deleted_at is not None  # history kept
        assert StoreAssignment.objects.filter(store_id=world_a.store.pk).count() == 0
    assert client.post(STORES, {"name": "Reborn", "code": "S1"}, format="json").status_code == 201


def test_list_filters_by_kind_and_search(api, world_a):
    client = api(world_a.admin)
    codes = lambda params: sorted(s["code"] for s in client.get(STORES, params).json()["data"])  # noqa: E731
    assert codes({}) == ["S1", "S2", "W1"]
    assert codes({"kind": "WAREHOUSE"}) == ["W1"]
    assert codes({"kind": "RETAIL", "search": "s2"}) == ["S2"]
    assert client.get(STORES, {"kind": "KIOSK"}).status_code == 400


def test_stats_fields_are_fixed_and_zero_without_stock_or_sales(api, world_a):
    response = api(world_a.manager).get(f"{STORES}/{world_a.store.pk}/stats")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "storeId": str(world_a.store.pk),
        "today": {"salesCount": 0, "salesTotal": "0.00"},
        "month": {"salesCount": 0, "salesTotal": "0.00"},
        "stockValue": "0.00",
        "lowStockCount": 0,
        "openTransfers": 0,
    }


def test_cashier_cannot_manage_stores(api, world_a):
    assert api(world_a.cashier).get(STORES).status_code == 403


def test_list_query_count_does_not_grow_with_page_size(api, world_a):
    client = api(world_a.admin)
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(STORES, {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(STORES, {"limit": 100}).json()["data"]) == 3
    assert len(large) == len(small)
