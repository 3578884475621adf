from __future__ import annotations

import pytest

from apps.tenants.models import TenantSettings

pytestmark = pytest.mark.django_db


def test_barcode_lookup_of_a_product(api, world_a):
    TenantSettings.objects.filter(tenant=world_a.tenant).update(
        tax_rate="23.00", prices_include_tax=True
    )
    response = api(world_a.cashier).get("/api/v1/products/lookup/barcode/4006381333931")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "type": "product",
        "productId": str(world_a.product.pk),
        "variantId": None,
        "name": "Cola 330ml",
        "productName": "Cola 330ml",
        "variantName": None,
        "sku": "P-100",
        "barcode": "4006381333931",
        "price": "1.20",
        "taxRate": "23.00",  # the company's rate: the product has no override
        "pricesIncludeTax": True,
        "status": "ACTIVE",
        "sellable": True,
        "trackStock": True,
        "unit": None,
        "attributes": [],
    }


def test_barcode_lookup_of_a_variant(api, world_a):
    data = api(world_a.cashier).get("/api/v1/products/lookup/barcode/96385074").json()["data"]
    assert (data["type"], data["variantId"], data["name"]) == (
        "variant",
        str(world_a.variant.pk),
        "Cola 330ml (M)",
    )
    assert (data["sku"], data["price"], data["attributes"]) == (
        "P-100-M",
        "1.50",
        [{"type": "Size", "value": "M"}],
    )


def test_barcode_lookup_uses_the_product_tax_override_and_status(api, world_a):
    api(world_a.admin).patch(
        f"/api/v1/products/{world_a.product.pk}",
        {"taxRate": "6.00", "status": "ARCHIVED"},
        format="json",
    )
    data = api(world_a.cashier).get("/api/v1/products/lookup/barcode/4006381333931").json()["data"]
    assert (data["taxRate"], data["status"], data["sellable"]) == ("6.00", "ARCHIVED", False)


def test_unknown_or_other_tenants_barcode_is_404(api, world_a, world_b):
    for code in ("0000000000000", "5901234123457"):  # B's product barcode
        response = api(world_a.cashier).get(f"/api/v1/products/lookup/barcode/{code}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


STATUS = "/api/v1/products/status"


def _set_status(api, world, status):
    api(world.admin).patch(
        f"/api/v1/products/{world.product.pk}", {"status": status}, format="json"
    )


@pytest.mark.parametrize(
    "slug, status",
    [
        ("draft", "DRAFT"),
        ("archived", "ARCHIVED"),
        ("discontinued", "DISCONTINUED"),
        ("coming-soon", "COMING_SOON"),
    ],
)
def test_status_views_list_count_and_detail(api, world_a, slug, status):
    client = api(world_a.cashier)
    assert client.get(f"{STATUS}/{slug}").json()["meta"]["total"] == 0
    assert client.get(f"{STATUS}/{slug}/count").json()["data"] == {"status": status, "count": 0}
    assert client.get(f"{STATUS}/{slug}/{world_a.product.pk}").status_code == 404
    _set_status(api, world_a, status)
    assert [p["sku"] for p in client.get(f"{STATUS}/{slug}").json()["data"]] == ["P-100"]
    assert client.get(f"{STATUS}/{slug}/count").json()["data"]["count"] == 1
    assert client.get(f"{STATUS}/{slug}/{world_a.product.pk}").json()["data"]["sku"] == "P-100"
    # same filters as the product list
    assert (
        client.get(f"{STATUS}/{slug}", {"search": "nothing-like-it"}).json()["meta"]["total"] == 0
    )
    assert (
        client.get(f"{STATUS}/{slug}/count", {"categoryId": str(world_a.category.pk)}).json()[
            "data"
        ]["count"]
        == 1
    )


def test_status_views_are_read_only_and_active_has_none(api, world_a):
    client = api(world_a.admin)
    assert client.post(f"{STATUS}/draft", {}, format="json").status_code == 405
    assert client.get(f"{STATUS}/active").status_code == 404
