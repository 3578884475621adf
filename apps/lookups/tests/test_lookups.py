from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LOOKUPS = "/api/v1/lookups"


def test_products_lookup_has_sku_barcode_and_price(api, world_a):
    data = api(world_a.cashier).get(f"{LOOKUPS}/products", {"search": "cola"}).json()["data"]
    assert data == [
        {
            "id": str(world_a.product.pk),
            "label": "Cola 330ml",
            "sku": "P-100",
            "barcode": "4006381333931",
            "price": "1.20",
            "status": "ACTIVE",
        }
    ]


def test_categories_are_labelled_with_their_path(api, world_a):
    labels = [r["label"] for r in api(world_a.cashier).get(f"{LOOKUPS}/categories").json()["data"]]
    assert labels == ["Drinks", "Drinks / Soft drinks"]


def test_stores_lookup_shows_cashiers_only_their_stores(api, world_a):
    mine = api(world_a.cashier).get(f"{LOOKUPS}/stores").json()["data"]
    assert [r["code"] for r in mine] == ["S1"]
    everything = api(world_a.manager).get(f"{LOOKUPS}/stores").json()["data"]
    assert sorted(r["code"] for r in everything) == ["S1", "S2", "W1"]


def test_users_lookup_is_for_admins_and_managers(api, world_a, world_b):
    assert api(world_a.cashier).get(f"{LOOKUPS}/users").status_code == 403
    rows = api(world_a.manager).get(f"{LOOKUPS}/users").json()["data"]
    assert sorted(r["email"] for r in rows) == [
        "admin@acme.test",
        "cashier@acme.test",
        "manager@acme.test",
    ]


@pytest.mark.parametrize("entity", ["brands", "units", "variant-types"])
def test_reference_lookups(api, world_a, entity):
    response = api(world_a.cashier).get(f"{LOOKUPS}/{entity}")
    assert response.status_code == 200
    rows = response.json()["data"]
    assert all(set(row) >= {"id", "label"} for row in rows)
    if entity == "variant-types":
        assert [r["label"] for r in rows] == ["Size"]


@pytest.mark.parametrize(
    "entity", ["products", "categories", "brands", "units", "variant-types", "stores", "users"]
)
def test_super_admins_have_no_tenant_to_look_into(api, super_admin, entity):
    response = api(super_admin).get(f"{LOOKUPS}/{entity}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_limit_and_unknown_entities(api, world_a):
    client = api(world_a.admin)
    assert len(client.get(f"{LOOKUPS}/categories", {"limit": 1}).json()["data"]) == 1
    assert client.get(f"{LOOKUPS}/categories", {"limit": 500}).status_code == 400
    assert client.get(f"{LOOKUPS}/categories", {"limit": "x"}).status_code == 400
    assert client.get(f"{LOOKUPS}/planets").status_code == 404


def test_other_tenants_rows_never_appear(api, world_a, world_b):
    rows = api(world_b.admin).get(f"{LOOKUPS}/products").json()["data"]
    assert [r["barcode"] for r in rows] == ["5901234123457"]


def test_lookup_query_count_does_not_grow_with_limit(api, world_a):
    client = api(world_a.admin)
    for index in range(5):
        client.post("/api/v1/products/brands", {"name": f"Brand {index}"}, format="json")
    for entity in ("products", "categories", "brands", "stores", "users"):
        client.get("/api/auth/me")  # warm the authenticated-user cache
        with CaptureQueriesContext(connection) as small:
            client.get(f"{LOOKUPS}/{entity}", {"limit": 1})
        with CaptureQueriesContext(connection) as large:
            client.get(f"{LOOKUPS}/{entity}", {"limit": 100})
        assert len(large) == len(small), entity


def test_customers_lookup_finds_by_name_phone_or_code(api, world_a, world_b):
    from decimal import Decimal

    from django_tenants.utils import tenant_context

    from apps.customers.models import Customer, CustomerGroup

    with tenant_context(world_a.tenant):
        vip = CustomerGroup.objects.create(name="VIP", discount_percent=Decimal("10"))
        ana = Customer.objects.create(
            code="C-000001", name="Ana Silva", phone="+351 912 000 111", group=vip
        )
        Customer.objects.create(code="C-000002", name="Bruno", email="b@example.com")
    with tenant_context(world_b.tenant):
        Customer.objects.create(code="C-000001", name="Ana Other")
    client = api(world_a.cashier)

    for search in ("ana", "912 000", "c-000001"):
        data = client.get(f"{LOOKUPS}/customers", {"search": search}).json()["data"]
        assert data == [
            {
                "id": str(ana.pk),
                "label": "Ana Silva",
                "code": "C-000001",
                "phone": "+351 912 000 111",
                "email": "",
                "groupId": str(vip.pk),
                "discountPercent": "10.00",
            }
        ], search
    everyone = client.get(f"{LOOKUPS}/customers").json()["data"]
    assert [row["label"] for row in everyone] == ["Ana Silva", "Bruno"]
