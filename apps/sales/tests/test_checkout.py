"""Checkout and quote through the API: server-side prices, stock out, numbers, payments, the
customer's account and points — and refusals that leave no trace."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.customers.models import Customer, CustomerGroup
from apps.inventory.models import StockMovement
from apps.sales.models import Payment, Sale
from apps.sales.tests.conftest import sales_state
from tests.factories.sales import CHECKOUT, cash, line, percent
from tests.factories.sales import cart as body
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
QUOTE = "/api/v1/sales/quote"


def without_ids(items: list[dict]) -> list[dict]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


def level(world, product) -> Decimal:
    from apps.inventory.models import StockLevel

    with tenant_context(world.tenant):
        return StockLevel.objects.get(store=world.store, product=product, variant=None).quantity


def test_a_cash_sale_with_change(api, world_a, shelf):
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(world_a, line(shelf.water, "3"), line(shelf.beans, "0.25"), payments=[cash("10.00")]),
        format="json",
    )

    assert response.status_code == 201, response.content
    sale = response.json()["data"]
    assert set(sale) >= {
        "id", "number", "status", "storeId", "cashierId", "customerId", "clientSaleId",
        "subtotal", "discountTotal", "taxTotal", "roundingAdjustment", "total", "paidTotal",
        "changeDue", "dueAmount", "pointsEarned", "pointsRedeemed", "items", "payments",
        "createdAt",
    }  # fmt: skip
    assert sale["number"] == "INV-S1-000001"
    assert (sale["status"], sale["cashierId"], sale["customerId"]) == (
        "COMPLETED",
        str(world_a.cashier.pk),
        None,
    )
    # 3 x 0.80 + 0.25 kg x 24.00 = 2.40 + 6.00, no tax (the company's rate is 0)
    assert (sale["subtotal"], sale["discountTotal"], sale["taxTotal"], sale["total"]) == (
        "8.40", "0.00", "0.00", "8.40",
    )  # fmt: skip
    assert (sale["paidTotal"], sale["changeDue"], sale["dueAmount"]) == ("10.00", "1.60", "0.00")
    water, beans = sale["items"]
    assert set(water) == {
        "id", "productId", "variantId", "name", "sku", "quantity", "unitPrice", "discountAmount",
        "taxRate", "taxAmount", "lineTotal", "unitCost", "returnedQuantity",
    }  # fmt: skip
    assert (water["name"], water["sku"], water["quantity"], water["unitPrice"]) == (
        "Still water 1l", "W-1", "3", "0.80",
    )  # fmt: skip
    assert (beans["quantity"], beans["lineTotal"], beans["unitCost"]) == ("0.25", "6.00", None)
    assert [(p["method"], p["amount"]) for p in sale["payments"]] == [("CASH", "10.00")]
    assert (level(world_a, shelf.water), level(world_a, shelf.beans)) == (D("17"), D("4.75"))
    with tenant_context(world_a.tenant):
        movements = StockMovement.objects.filter(type="SALE", reference_id=sale["id"])
        assert sorted((m.delta, m.reference_type) for m in movements) == [
            (D("-3"), "sale"),
            (D("-0.25"), "sale"),
        ]
        change = Payment.objects.get(sale_id=sale["id"], kind="CHANGE")
        assert (change.method, change.amount) == ("CASH", D("-1.60"))


def test_numbers_follow_each_other_per_store(api, world_a, shelf):
    client = api(world_a.manager)
    numbers = []
    for store in (world_a.store, world_a.store, world_a.other_store):
        request = body(world_a, line(shelf.wrap), payments=[cash("1.00")])
        request["storeId"] = str(store.pk)
        numbers.append(client.post(CHECKOUT, request, format="json").json()["data"]["number"])
    assert numbers == ["INV-S1-000001", "INV-S1-000002", "INV-S2-000001"]


def test_taxes_discounts_and_the_group_in_the_documented_order(api, world_a, shelf):
    company(world_a, tax_rate=D("23"))
    with tenant_context(world_a.tenant):
        vip = CustomerGroup.objects.create(name="VIP", discount_percent=D("5"))
        ana = Customer.objects.create(code="C-1", name="Ana", group=vip)

    response = api(world_a.manager).post(
        CHECKOUT,
        body(
            world_a,
            line(
                shelf.beans, "0.5", unitPrice="20.00", discount={"type": "PERCENT", "value": "10"}
            ),
            line(shelf.wrap, "5"),
            customerId=str(ana.pk),
            discount={"type": "AMOUNT", "value": "3.00"},
            payments=[{"method": "CARD", "amount": "12.67"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    sale = response.json()["data"]
    # beans 10.00 - 1.00 - 0.45 = 8.55; wrap 5.00 - 0.25 = 4.75; cart 3.00 by share: 1.93 / 1.07
    # taxable 6.62 + 3.68, tax 23 %: 1.52 + 0.85
    assert [(i["discountAmount"], i["taxAmount"], i["lineTotal"]) for i in sale["items"]] == [
        ("3.38", "1.52", "8.14"),
        ("1.32", "0.85", "4.53"),
    ]
    assert (sale["subtotal"], sale["discountTotal"], sale["taxTotal"], sale["total"]) == (
        "15.00", "4.70", "2.37", "12.67",
    )  # fmt: skip
    assert (sale["paidTotal"], sale["dueAmount"]) == ("12.67", "0.00")


def test_quote_equals_checkout_and_writes_nothing(api, world_a, shelf):
    client = api(world_a.manager)
    request = body(
        world_a,
        line(shelf.water, "2", discount={"type": "AMOUNT", "value": "0.10"}),
        line(shelf.beans, "1.5"),
        discount={"type": "PERCENT", "value": "7.5"},
        payments=[cash("50.00")],
    )
    company(world_a, tax_rate=D("13"), cash_rounding="0.05")
    before = sales_state(world_a)

    with CaptureQueriesContext(connection) as statements:
        quoted = client.post(QUOTE, request, format="json")

    assert quoted.status_code == 200, quoted.content
    assert sales_state(world_a) == before
    # nor does it wait on the company's day in the console's rollup (apps.tenants.usage)
    assert not [q for q in statements.captured_queries if "tenants_tenantsalesday" in q["sql"]]
    checked_out = client.post(CHECKOUT, request, format="json")
    assert checked_out.status_code == 201
    keys = ["subtotal", "discountTotal", "taxTotal", "roundingAdjustment", "total", "paidTotal",
            "changeDue", "dueAmount"]  # fmt: skip
    assert [quoted.json()["data"][k] for k in keys] == [checked_out.json()["data"][k] for k in keys]
    assert quoted.json()["data"]["number"] is None
    assert [
        {k: v for k, v in item.items() if k != "id"} for item in quoted.json()["data"]["items"]
    ] == [
        {k: v for k, v in item.items() if k != "id"} for item in checked_out.json()["data"]["items"]
    ]


def test_a_sale_too_large_to_store_is_a_400_not_a_500(api, world_a, shelf):
    """A line of 1,000,000 at 999,999,999.00 (both within their fields) is worth 10^15: more
    than a money column holds. A till's quote priced it anyway (a total no sale can store).
    Refused by pricing itself — quote and checkout alike, nothing written — per line, and for
    a cart whose lines fit but whose total does not."""
    from apps.catalog.models import Product

    with tenant_context(world_a.tenant):
        gold = Product.objects.create(
            name="Gold bar", sku="AU-1", status="ACTIVE", track_stock=False,
            sell_price=D("999999999.00"),
        )  # fmt: skip
    before = sales_state(world_a)
    huge = body(world_a, line(shelf.water), line(gold, "1000000"))  # a till's quote: no payment
    paid = {**huge, "payments": [cash("1.00")]}
    for path, request in ((QUOTE, huge), (QUOTE, paid), (CHECKOUT, paid)):
        response = api(world_a.cashier).post(path, request, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["error"] == {
            "code": "VALIDATION_ERROR",
            "message": "A line's amount is larger than a sale can hold.",
            "details": [
                {"field": "items.1.quantity", "message": "Its amount must be under 1000000000000."}
            ],
        }
    # 600 bars fit a line (599,999,999,400.00), two such lines do not fit one sale
    two = body(world_a, line(gold, "600"), line(gold, "600"))
    response = api(world_a.cashier).post(QUOTE, two, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"] == [
        {"field": "items", "message": "The sale's total must be under 1000000000000."}
    ]
    assert sales_state(world_a) == before


def test_a_line_worth_less_than_a_cent_is_refused_by_checkout_and_quote(api, world_a, shelf):
    """Issue 26 point 8: 0.001 kg at 2.49 rounded to 0.00 and sold for free."""
    from apps.catalog.models import Product

    with tenant_context(world_a.tenant):
        rice = Product.objects.create(
            name="Rice", sku="R-1", status="ACTIVE", unit=shelf.beans.unit,
            sell_price=D("2.49"), track_stock=False,
        )  # fmt: skip
    request = body(world_a, line(shelf.water), line(rice, "0.001"), payments=[cash("1.00")])
    before = sales_state(world_a)

    for path in (QUOTE, CHECKOUT):
        response = api(world_a.cashier).post(path, request, format="json")

        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "LINE_ROUNDS_TO_ZERO"
        assert response.json()["error"]["details"] == [
            {"field": "items.1.quantity", "message": "Worth less than a cent at this price."}
        ]
        assert sales_state(world_a) == before
    # 0.003 kg is worth a cent: sold
    request["items"][1]["quantity"] = "0.003"
    sold = api(world_a.cashier).post(CHECKOUT, request, format="json")
    assert sold.status_code == 201, sold.content
    assert [i["lineTotal"] for i in sold.json()["data"]["items"]] == ["0.80", "0.01"]


def test_cash_rounding_applies_only_when_cash_is_tendered(api, world_a, shelf):
    company(world_a, cash_rounding="0.05")
    client = api(world_a.manager)
    by_cash = client.post(
        CHECKOUT, body(world_a, line(shelf.beans, "0.101"), payments=[cash("5.00")]), format="json"
    ).json()["data"]
    by_card = client.post(
        CHECKOUT,
        body(world_a, line(shelf.beans, "0.101"), payments=[{"method": "CARD", "amount": "2.42"}]),
        format="json",
    ).json()["data"]
    # 0.101 kg x 24.00 = 2.424 -> 2.42; cash: 2.40 (-0.02)
    assert (by_cash["total"], by_cash["roundingAdjustment"], by_cash["changeDue"]) == (
        "2.40", "-0.02", "2.60",
    )  # fmt: skip
    assert (by_card["total"], by_card["roundingAdjustment"]) == ("2.42", "0.00")


def test_a_credit_sale_and_store_credit_through_the_customers_ledger(api, world_a, shelf):
    company(world_a, loyalty_enabled=True, loyalty_points_per_unit=D("1"))
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(
            code="C-1", name="Ana", credit_limit=D("50.00"), balance=D("-4.00")
        )
        from apps.customers.models import CustomerLedgerEntry

        CustomerLedgerEntry.objects.create(
            customer=ana, type="ADJUSTMENT", amount=D("-4.00"), balance_after=D("-4.00")
        )

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.beans, "1"),
            customerId=str(ana.pk),
            payments=[{"method": "STORE_CREDIT", "amount": "4.00"}, cash("10.00")],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    sale = response.json()["data"]
    assert (sale["total"], sale["paidTotal"], sale["dueAmount"], sale["pointsEarned"]) == (
        "24.00", "14.00", "10.00", 14,
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        ana.refresh_from_db()
        assert (ana.balance, ana.loyalty_points) == (D("10.00"), 14)
        from apps.customers.models import CustomerLedgerEntry

        rows = CustomerLedgerEntry.objects.filter(reference_id=sale["id"]).order_by("created_at")
        assert [(r.type, r.amount) for r in rows] == [
            ("STORE_CREDIT_USED", D("4.00")),
            ("CREDIT_SALE", D("10.00")),
        ]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("insufficient stock", 422, "INSUFFICIENT_STOCK"),
        ("not for sale", 422, "NOT_SELLABLE"),
        ("warehouse", 422, "INVALID_LOCATION"),
        ("not her store", 403, "FORBIDDEN"),
        ("price override", 403, "FORBIDDEN"),
        ("unpaid without customer", 422, "PAYMENT_INSUFFICIENT"),
        ("non-cash overpayment", 422, "OVERPAYMENT"),
        ("over the credit limit", 422, "CREDIT_LIMIT_EXCEEDED"),
        ("points without program", 422, "LOYALTY_DISABLED"),
        ("fraction of a whole unit", 400, "VALIDATION_ERROR"),
        ("discount above the line", 422, "DISCOUNT_INVALID"),
    ],
)
def test_refusals_leave_no_trace(api, world_a, shelf, case, status, code):
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(code="C-1", name="Ana", loyalty_points=500)
    requests = {
        "insufficient stock": body(world_a, line(shelf.water, "21"), payments=[cash("20")]),
        "not for sale": body(world_a, line(shelf.draft), payments=[cash("9")]),
        "warehouse": {**body(world_a, line(shelf.wrap)), "storeId": str(world_a.warehouse.pk)},
        "not her store": {
            **body(world_a, line(shelf.wrap)),
            "storeId": str(world_a.other_store.pk),
        },
        "price override": body(world_a, line(shelf.water, unitPrice="0.01"), payments=[cash("1")]),
        "unpaid without customer": body(world_a, line(shelf.water), payments=[cash("0.50")]),
        "non-cash overpayment": body(
            world_a, line(shelf.water), payments=[{"method": "CARD", "amount": "1.00"}]
        ),
        "over the credit limit": body(world_a, line(shelf.water), customerId=str(ana.pk)),
        "points without program": body(
            world_a,
            line(shelf.beans),
            customerId=str(ana.pk),
            redeemPoints=100,
            payments=[cash("30")],
        ),
        "fraction of a whole unit": body(world_a, line(shelf.water, "1.5"), payments=[cash("2")]),
        "discount above the line": body(
            world_a,
            line(shelf.water, discount={"type": "AMOUNT", "value": "0.81"}),
            payments=[cash("1")],
        ),
    }
    before = sales_state(world_a)

    response = api(world_a.cashier).post(CHECKOUT, requests[case], format="json")

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert sales_state(world_a) == before
    # no number was consumed either: the next sale is the first
    ok = api(world_a.cashier).post(
        CHECKOUT, body(world_a, line(shelf.wrap), payments=[cash("1.00")]), format="json"
    )
    assert ok.json()["data"]["number"] == "INV-S1-000001"


def test_a_retry_with_the_same_client_sale_id_returns_the_stored_sale(api, world_a, shelf):
    client = api(world_a.cashier)
    request = body(
        world_a,
        line(shelf.water, "2"),
        payments=[cash("2.00")],
        clientSaleId="8d7d3c1e-5b7a-4c3e-9f0e-2b1a0c9d8e7f",
    )
    first = client.post(CHECKOUT, request, format="json")
    before = sales_state(world_a)

    again = client.post(CHECKOUT, request, format="json")
    other = client.post(CHECKOUT, {**request, "note": "changed"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"] == first.json()["data"]
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "CLIENT_SALE_ID_REUSED"
    assert sales_state(world_a) == before
    with tenant_context(world_a.tenant):
        assert Sale.objects.count() == 1


def test_lines_carry_the_sales_time_and_store_and_the_sale_its_basket(api, world_a, shelf):
    """What the reports read instead of joining every line to its sale: each line's copy of the
    sale's time and store, and the sale's sorted, distinct products (a product on two lines is
    one product of the basket)."""
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "1"),
            line(shelf.beans, "0.5"),
            line(shelf.water, "2", discount=percent("10")),
            payments=[cash("50.00")],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    with tenant_context(world_a.tenant):
        sale = Sale.objects.get(pk=response.json()["data"]["id"])
        lines = list(sale.items.order_by("position"))
    assert [(x.product_id, x.sold_at, x.store_id) for x in lines] == [
        (shelf.water.pk, sale.created_at, world_a.store.pk),
        (shelf.beans.pk, sale.created_at, world_a.store.pk),
        (shelf.water.pk, sale.created_at, world_a.store.pk),
    ]
    assert sale.product_ids == sorted([shelf.water.pk, shelf.beans.pk])
