"""The till's reads and parked carts: context, product and customer search, the cashier's own
sales, carts held and resumed once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.catalog.models import Product, ProductVariant
from apps.customers.models import Customer, CustomerGroup
from apps.pos.models import ParkedCart
from apps.pos.tests.conftest import open_shift
from tests.factories.sales import cash, line
from tests.factories.sales import checkout as sell
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
CARTS = "/api/v1/pos/carts"


def test_context_gives_the_cashier_s_store_settings_and_open_shift(api, world_a):
    company(world_a, require_open_shift=True, currency="EUR", parked_cart_hours=8)
    cashier = api(world_a.cashier)
    data = cashier.get("/api/v1/pos/context").json()["data"]
    assert [s["id"] for s in data["stores"]] == [str(world_a.store.pk)]
    assert data["store"]["id"] == str(world_a.store.pk) and data["openShift"] is None
    settings = data["settings"]
    assert (settings["currency"], settings["requireOpenShift"], settings["parkedCartHours"]) == (
        "EUR", True, 8,
    )  # fmt: skip
    assert data["user"] == {"id": str(world_a.cashier.pk), "name": world_a.cashier.name,
                            "role": "CASHIER"}  # fmt: skip
    shift = open_shift(cashier, world_a)
    assert cashier.get("/api/v1/pos/context").json()["data"]["openShift"]["id"] == shift["id"]
    other = cashier.get("/api/v1/pos/context", {"storeId": str(world_a.other_store.pk)})
    assert other.status_code == 403
    manager = api(world_a.manager).get("/api/v1/pos/context").json()["data"]
    assert {s["id"] for s in manager["stores"]} == {
        str(world_a.store.pk),
        str(world_a.other_store.pk),
    }  # RETAIL only: no warehouse
    assert manager["store"] is None  # several: the till picks one


def test_till_search_sells_variants_with_price_tax_and_stock(api, world_a, shelf):
    cashier = api(world_a.cashier)

    def items(**query) -> list[dict]:
        response = cashier.get("/api/v1/pos/products", {"storeId": str(world_a.store.pk), **query})
        assert response.status_code == 200, response.content
        return response.json()["data"]

    found = items(search="water")
    assert [(i["name"], i["price"], i["stock"], i["taxRate"]) for i in found] == [
        ("Still water 1l", "0.80", "20", "0.00")
    ]
    with tenant_context(world_a.tenant):
        variant = ProductVariant.objects.get(pk=world_a.variant.pk)
        product = Product.objects.get(pk=world_a.product.pk)
    by_barcode = items(barcode=product.barcode)
    assert [(i["productId"], i["variantId"]) for i in by_barcode] == [
        (str(product.pk), str(variant.pk))  # a product with variants is sold as its variants
    ]
    assert items(search="B-1")[0]["sku"] == "B-1"  # SKU prefix
    assert items(search="b-1")[0]["allowsFraction"] is True  # beans: by the kilogram
    assert items(search="no such thing") == []
    wrap = items(search="gift")[0]
    assert (wrap["trackStock"], wrap["stock"]) == (False, None)
    assert "Prototype" not in {i["name"] for i in items(limit=100)}  # a draft is not for sale
    with CaptureQueriesContext(connection) as queries:
        items(search="e", limit=100)
    assert len(queries) <= 3  # the user, the store check, the page (no query per item)
    refused = api(world_a.cashier).get(
        "/api/v1/pos/products", {"storeId": str(world_a.other_store.pk)}
    )
    assert refused.status_code == 403
    missing = cashier.get("/api/v1/pos/products")
    assert missing.status_code == 400
    assert missing.json()["error"]["details"] == [
        {"field": "storeId", "message": "This field is required."}
    ]


def test_till_customer_search(api, world_a):
    with tenant_context(world_a.tenant):
        Customer.objects.create(code="C-1", name="Ana Silva", phone="+351 912 000 111")
        vip = CustomerGroup.objects.create(name="VIP", discount_percent=D("10"))
        Customer.objects.create(code="C-2", name="Bruno Costa", credit_limit=D("50"), group=vip)
    cashier = api(world_a.cashier)
    found = cashier.get("/api/v1/pos/customers", {"search": "912000"}).json()["data"]
    assert [(c["code"], c["name"]) for c in found] == [("C-1", "Ana Silva")]
    with CaptureQueriesContext(connection) as queries:
        every = cashier.get("/api/v1/pos/customers").json()["data"]
    assert [c["name"] for c in every] == ["Ana Silva", "Bruno Costa"]
    assert len(queries) == 2  # the user, the page with the groups (no query per customer)
    assert (every[0]["groupDiscountPercent"], every[1]["groupDiscountPercent"]) == (None, "10.00")
    assert every[1]["creditLimit"] == "50.00"


def test_the_till_sales_are_the_cashier_s_own_of_the_open_shift(api, world_a, shelf):
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    before_shift = sell(cashier, world_a, line(shelf.wrap), payments=[cash("1.00")])
    sell(manager, world_a, line(shelf.wrap), payments=[cash("1.00")])
    today = cashier.get("/api/v1/pos/sales").json()["data"]
    assert [s["number"] for s in today] == [before_shift["number"]]  # today's, own
    shift = open_shift(cashier, world_a)
    in_shift = sell(cashier, world_a, line(shelf.water, "2"), payments=[cash("2.00")])
    listed = cashier.get("/api/v1/pos/sales").json()["data"]
    assert [s["number"] for s in listed] == [in_shift["number"]]
    assert listed[0]["items"][0]["unitCost"] is None  # a cashier does not see costs
    by_id = cashier.get("/api/v1/pos/sales", {"shiftId": shift["id"]}).json()["data"]
    assert [s["id"] for s in by_id] == [in_shift["id"]]
    manager_shift = open_shift(manager, world_a, "1.00", drawer="BACK")
    other = cashier.get("/api/v1/pos/sales", {"shiftId": manager_shift["id"]})
    assert other.status_code == 400


def test_parked_carts_are_held_per_store_resumed_once_and_expire(api, world_a, world_b, shelf):
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    cart = {"storeId": str(world_a.store.pk), "items": [line(shelf.water, "3")]}
    parked = cashier.post(
        CARTS, {"storeId": str(world_a.store.pk), "label": "Table 4", "cart": cart}, format="json"
    )
    assert parked.status_code == 201, parked.content
    held = parked.json()["data"]
    assert (held["label"], held["cart"]) == ("Table 4", cart)
    mismatch = manager.post(
        CARTS, {"storeId": str(world_a.other_store.pk), "cart": cart}, format="json"
    )
    assert mismatch.status_code == 400  # the cart says it belongs to another store
    assert mismatch.json()["error"]["details"] == [
        {"field": "cart.storeId", "message": "Not the cart's store."}
    ]
    elsewhere = manager.post(
        CARTS,
        {"storeId": str(world_a.other_store.pk), "cart": {"items": cart["items"]}},
        format="json",
    )
    assert elsewhere.status_code == 201
    assert [c["id"] for c in cashier.get(CARTS).json()["data"]] == [held["id"]]
    assert cashier.get(f"{CARTS}/{elsewhere.json()['data']['id']}").status_code == 404
    assert api(world_b.admin).post(f"{CARTS}/{held['id']}/resume").status_code == 404

    bad = cashier.post(
        CARTS, {"storeId": str(world_a.store.pk), "cart": {"items": [{"quantity": "1"}]}},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"].startswith("cart")

    resumed = cashier.post(f"{CARTS}/{held['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["data"]["cart"] == cart
    assert cashier.post(f"{CARTS}/{held['id']}/resume").status_code == 404  # once
    with tenant_context(world_a.tenant):
        ParkedCart.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert manager.get(CARTS).json()["data"] == []  # expired


def test_the_company_sets_how_long_a_parked_cart_lives(api, world_a, shelf):
    admin = api(world_a.admin)
    refused = admin.patch("/api/v1/tenants/me/settings", {"parkedCartHours": 0}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["field"] == "parkedCartHours"
    changed = admin.patch("/api/v1/tenants/me/settings", {"parkedCartHours": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["data"]["parkedCartHours"] == 2
    before = timezone.now()
    parked = api(world_a.cashier).post(
        CARTS, {"storeId": str(world_a.store.pk), "cart": {"items": [line(shelf.water)]}},
        format="json",
    )  # fmt: skip
    assert parked.status_code == 201
    with tenant_context(world_a.tenant):
        expires = ParkedCart.objects.get().expires_at
    assert timedelta(hours=2) <= expires - before <= timedelta(hours=2, seconds=5)
