from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.catalog.models import Product, ProductVariant, VariantTypeValue

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products"


def product_body(**overrides) -> dict:
    body = {
        "name": "Lemon Tea 500ml",
        "sku": "LT-500",
        "barcode": "036000291452",  # valid UPC-A
        "categoryId": None,
        "status": "ACTIVE",
        "costPrice": "0.80",
        "sellPrice": "2.10",
        "taxRate": "6.00",
        "attributes": {"origin": "PT"},
    }
    body.update(overrides)
    return body


def value_id(world, value: str) -> str:
    with tenant_context(world.tenant):
        return str(VariantTypeValue.objects.get(variant_type__name="Size", value=value).pk)


def test_create_product(api, world_a):
    response = api(world_a.manager).post(
        PRODUCTS, product_body(categoryId=str(world_a.category.pk)), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["sku"], data["barcode"], data["sellPrice"], data["taxRate"]) == (
        "LT-500",
        "036000291452",
        "2.10",
        "6.00",
    )
    assert data["category"] == {"id": str(world_a.category.pk), "name": "Drinks"}
    assert (data["variants"], data["variantCount"], data["imageUrls"]) == ([], 0, [])
    assert AuditLog.objects.filter(action="product.create", entity_id=data["id"]).count() == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"sku": "p-100"}, "sku"),  # SKUs are unique case-insensitively
        ({"sku": "P-100-m"}, "sku"),  # …across products and variants
        ({"barcode": "4006381333931"}, "barcode"),  # the product's barcode
        ({"barcode": "96385074"}, "barcode"),  # a variant's barcode
    ],
)
def test_duplicate_sku_or_barcode_is_409_and_writes_nothing(api, world_a, overrides, field):
    response = api(world_a.admin).post(PRODUCTS, product_body(**overrides), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": field, "message": "Already in use."}]
    with tenant_context(world_a.tenant):
        assert not Product.objects.filter(name="Lemon Tea 500ml").exists()


def test_the_same_codes_are_fine_in_another_company(api, world_b):
    response = api(world_b.admin).post(PRODUCTS, product_body(sku="P-200"), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"barcode": "4006381333932"}, "barcode"),  # EAN-13 with a wrong check digit
        ({"barcode": "96385075"}, "barcode"),  # EAN-8 with a wrong check digit
        ({"barcode": "has space"}, "barcode"),
        ({"sku": "bad sku!"}, "sku"),
        ({"sellPrice": "-1.00"}, "sellPrice"),
        ({"sellPrice": 2.1}, "sellPrice"),  # money is a string
        ({"sellPrice": "2.105"}, "sellPrice"),
        ({"taxRate": "101.00"}, "taxRate"),
        ({"status": "SOLD_OUT"}, "status"),
        ({"categoryId": "00000000-0000-0000-0000-000000000000"}, "categoryId"),
        ({"attributes": ["not", "an", "object"]}, "attributes"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_product_is_400_with_the_field(api, world_a, overrides, field):
    response = api(world_a.admin).post(PRODUCTS, product_body(**overrides), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"][0]["field"] == field
    with tenant_context(world_a.tenant):
        assert not Product.objects.filter(name="Lemon Tea 500ml").exists()


def test_update_and_soft_delete_frees_the_sku(api, world_a):
    client = api(world_a.admin)
    url = f"{PRODUCTS}/{world_a.product.pk}"
    assert (
        client.patch(url, {"sellPrice": "1.35"}, format="json").json()["data"]["sellPrice"]
        == "1.35"
    )
    deleted = client.delete(url)
    assert deleted.status_code == 200
    assert client.get(url).status_code == 404
    with tenant_context(world_a.tenant):
        assert Product.objects.get(pk=world_a.product.pk).deleted_at is not None
        assert ProductVariant.objects.get(pk=world_a.variant.pk).deleted_at is not None
    # SKU and barcodes of the deleted product and its variant are free again
    reuse = product_body(sku="P-100", barcode="4006381333931")
    assert client.post(PRODUCTS, reuse, format="json").status_code == 201


def test_cashiers_do_not_see_cost_prices(api, world_a):
    as_cashier = api(world_a.cashier).get(f"{PRODUCTS}/{world_a.product.pk}").json()["data"]
    assert as_cashier["costPrice"] is None
    assert as_cashier["variants"][0]["cost"] is None
    as_manager = api(world_a.manager).get(f"{PRODUCTS}/{world_a.product.pk}").json()["data"]
    assert as_manager["costPrice"] == "0.4000"
    assert api(world_a.cashier).post(PRODUCTS, product_body(), format="json").status_code == 403


def _create(client, sku, name, **extra):
    response = client.post(
        PRODUCTS, product_body(sku=sku, name=name, barcode=None, **extra), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_list_search_filters_and_sorting(api, world_a):
    client = api(world_a.admin)
    with tenant_context(world_a.tenant):
        soft = world_a.category.children.get(name="Soft drinks")
    _create(client, "ST-1", "Sparkling Tonic", categoryId=str(soft.pk), sellPrice="3.00")
    _create(client, "WB-9", "Wooden Brush", status="DRAFT", sellPrice="9.50")

    def skus(**params):
        body = client.get(PRODUCTS, params).json()
        return [p["sku"] for p in body["data"]]

    assert skus(search="tonic") == ["ST-1"]  # case-insensitive, by name
    assert skus(search="wb-9") == ["WB-9"]  # by SKU
    assert skus(search="400638133") == ["P-100"]  # by barcode
    assert skus(categoryId=str(world_a.category.pk), sort="sku") == ["P-100", "ST-1"]  # + children
    assert skus(status="DRAFT") == ["WB-9"]
    assert skus(minPrice="2", maxPrice="5") == ["ST-1"]
    assert skus(sort="-sellPrice") == ["WB-9", "ST-1", "P-100"]
    assert client.get(PRODUCTS, {"status": "SOLD_OUT"}).status_code == 400
    assert client.get(PRODUCTS, {"minPrice": "cheap"}).status_code == 400


def test_list_query_count_does_not_grow_with_page_size(api, world_a):
    client = api(world_a.admin)
    for index in range(6):
        _create(client, f"Q-{index}", f"Query {index}")
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(PRODUCTS, {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(PRODUCTS, {"limit": 100}).json()["data"]) == 7
    assert len(large) == len(small)


def test_variants_add_update_delete(api, world_a):
    client = api(world_a.manager)
    url = f"{PRODUCTS}/{world_a.product.pk}/variants"
    body = {
        "sku": "P-100-L",
        "barcode": None,
        "price": "1.90",
        "valueIds": [value_id(world_a, "L")],
    }
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.json()
    variants = {v["sku"]: v for v in response.json()["data"]["variants"]}
    assert variants["P-100-L"]["name"] == "L"
    assert variants["P-100-L"]["values"][0]["type"] == "Size"
    assert variants["P-100-L"]["effectivePrice"] == "1.90"
    vid = variants["P-100-L"]["id"]
    patched = client.patch(f"{url}/{vid}", {"price": None}, format="json").json()["data"]
    assert {v["sku"]: v["effectivePrice"] for v in patched["variants"]}["P-100-L"] == "1.20"
    assert client.delete(f"{url}/{vid}").status_code == 200
    assert [
        v["sku"] for v in client.get(f"{PRODUCTS}/{world_a.product.pk}").json()["data"]["variants"]
    ] == ["P-100-M"]


def test_duplicate_variant_combination_is_409(api, world_a):
    url = f"{PRODUCTS}/{world_a.product.pk}/variants"
    body = {"sku": "P-100-M2", "valueIds": [value_id(world_a, "M")]}
    response = api(world_a.admin).post(url, body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "valueIds"


def test_two_values_of_one_type_is_400(api, world_a):
    url = f"{PRODUCTS}/{world_a.product.pk}/variants"
    body = {"sku": "P-100-X", "valueIds": [value_id(world_a, "S"), value_id(world_a, "L")]}
    response = api(world_a.admin).post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "valueIds"


def test_variant_sku_may_not_reuse_a_product_sku(api, world_a):
    url = f"{PRODUCTS}/{world_a.product.pk}/variants"
    body = {"sku": "p-100", "valueIds": [value_id(world_a, "L")]}
    assert api(world_a.admin).post(url, body, format="json").status_code == 409


def test_variant_of_another_product_is_404(api, world_a):
    other = _create(api(world_a.admin), "O-1", "Other")
    url = f"{PRODUCTS}/{other['id']}/variants/{world_a.variant.pk}"
    assert api(world_a.admin).patch(url, {"price": "9.00"}, format="json").status_code == 404
