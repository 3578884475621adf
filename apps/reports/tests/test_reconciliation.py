"""The seed reports reconcile with the lists for the same filters: sales, payments and expenses,
across a day boundary of the company's time zone (New York, where UTC's day is 5 hours ahead)
and for a store filter; profit uses the cost stored on each sale line even after costs change;
the stock report's `asOf` equals the levels replayed from the ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.expenses.models import Expense, ExpenseCategory
from apps.inventory.services import AdjustItem, stock_adjust
from apps.sales.models import Sale, SaleItem, SaleReturn
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
NY = ZoneInfo("America/New_York")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def every_page(client, path: str, **query) -> list[dict]:
    rows, page = [], 1
    while True:
        response = client.get(path, {**query, "page": page, "limit": 100})
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        rows += body["data"]
        if page >= body["meta"]["totalPages"]:
            return rows
        page += 1


def report(client, name: str, **query) -> dict:
    response = client.get(f"/api/v1/reports/{name}", query)
    assert response.status_code == 200, response.content[:300]
    return response.json()["data"]


@pytest.fixture
def books(api, world_a):
    """In New York time: on the 20th, a sale at 23:30 in S1 (partly returned at 23:45), one at
    10:00 in S2, one at 12:00 in S1 voided at 13:00; on the 21st, a sale at 00:30 in S1 (04:30
    and 05:30 UTC: both on the 21st in UTC). Taxes 23 % and 6 %; expenses on both days."""
    company(world_a, timezone="America/New_York")
    with tenant_context(world_a.tenant):
        oil = Product.objects.create(
            name="Oil", sku="REP-OIL", status="ACTIVE", sell_price=D("7.99"),
            cost_price=D("3.1234"), tax_rate=D("23"),
        )  # fmt: skip
        bread = Product.objects.create(
            name="Bread", sku="REP-BREAD", status="ACTIVE", sell_price=D("1.25"),
            cost_price=D("0.4000"), tax_rate=D("6"),
        )  # fmt: skip
        for store in (world_a.store, world_a.other_store):
            with time_machine.travel(at(19, 9), tick=False):  # the ledger in time order
                stock_adjust(
                    actor=world_a.admin, store_id=store.pk, reason="FOUND",
                    items=[AdjustItem(oil.pk, None, D("50")), AdjustItem(bread.pk, None, D("50"))],
                )  # fmt: skip

    def sell(when, store, *lines, pay="CASH"):
        with time_machine.travel(when, tick=False):
            admin = api(world_a.admin)  # a token issued then
            cart = {"storeId": str(store.pk), "items": [
                {"productId": str(p.pk), "quantity": q} for p, q in lines]}  # fmt: skip
            quote = admin.post("/api/v1/sales/quote", {**cart, "payments": [
                {"method": "CASH", "amount": "1000.00"}]}, format="json")  # fmt: skip
            assert quote.status_code == 200, quote.content
            total = quote.json()["data"]["total"]
            response = admin.post(
                "/api/v1/sales/checkout",
                {**cart, "payments": [{"method": pay, "amount": total}]},
                format="json",
            )
        assert response.status_code == 201, response.content
        return response.json()["data"]

    late = sell(at(20, 23, 30), world_a.store, (oil, "3"), (bread, "2"))
    morning = sell(at(20, 10), world_a.other_store, (oil, "1"), pay="CARD")
    voided = sell(at(20, 12), world_a.store, (bread, "4"))
    after_midnight = sell(at(21, 0, 30), world_a.store, (bread, "10"), pay="CARD")
    with time_machine.travel(at(20, 13), tick=False):
        assert api(world_a.admin).post(f"/api/v1/sales/{voided['id']}/void", {"reason": "Test"},
                          format="json").status_code == 200  # fmt: skip
    with tenant_context(world_a.tenant):
        oil_line = SaleItem.objects.get(sale_id=late["id"], product=oil)
    with time_machine.travel(at(20, 23, 45), tick=False):
        returned = api(world_a.admin).post(
            f"/api/v1/sales/{late['id']}/return",
            {"items": [{"itemId": str(oil_line.pk), "quantity": "1"}], "refundMethod": "CASH",
             "reason": "Damaged"},
            format="json",
        )  # fmt: skip
    assert returned.status_code == 201, returned.content
    with tenant_context(world_a.tenant):
        rent = ExpenseCategory.objects.create(name="Rent")
        for amount, day, store in (
            ("50.00", 20, world_a.store), ("20.00", 21, world_a.store), ("10.00", 20, None),
        ):  # fmt: skip
            Expense.objects.create(category=rent, store=store, amount=D(amount),
                                   date=date(2026, 11, day))  # fmt: skip
    return {"oil": oil, "bread": bread, "late": late, "morning": morning, "voided": voided,
            "after_midnight": after_midnight, "return": returned.json()["data"]}  # fmt: skip


DAY = {"from": "2026-11-20", "to": "2026-11-20"}


@pytest.mark.parametrize("store", [None, "store"])
def test_sales_report_equals_the_lists(api, world_a, books, store):
    client = api(world_a.admin)
    query = {**DAY, **({"storeId": str(world_a.store.pk)} if store else {})}
    sales = every_page(client, "/api/v1/sales", **query)
    kept = [s for s in sales if s["status"] != "VOIDED"]
    with tenant_context(world_a.tenant):
        returns = SaleReturn.objects.filter(
            created_at__gte=at(20, 0), created_at__lt=at(21, 0),
            **({"store": world_a.store} if store else {}),
        )  # fmt: skip
        refunds = sum((r.refund_total for r in returns), D("0.00"))
        # (one return of one line: the tax it gives back is the line's tax prorated)
        returned_lines = [(i.refund_amount, i.quantity, i.sale_item) for r in returns
                          for i in r.items.select_related("sale_item")]  # fmt: skip
        returned_tax = sum(
            ((line.tax_amount * q / line.quantity).quantize(D("0.01"), ROUND_HALF_UP)
             for _, q, line in returned_lines), D("0.00"),
        )  # fmt: skip
        returned = sum((amount for amount, _, _ in returned_lines), D("0.00")) - returned_tax
        voided = Sale.objects.get(pk=books["voided"]["id"])
    data = report(client, "sales", **query)
    totals = data["totals"]
    taken = sum(D(s["total"]) for s in kept)
    # the company's prices exclude tax: the subtotals and discounts are without tax
    gross = sum(D(s["subtotal"]) for s in kept)
    discounts = sum(D(s["discountTotal"]) for s in kept)
    rounding = sum(D(s["roundingAdjustment"]) for s in kept)
    assert totals == {
        "count": len(kept),
        "grossSales": str(gross),
        "discounts": str(discounts),
        "returns": str(returned),
        "netSales": str(gross - discounts - returned),
        "tax": str(sum(D(s["taxTotal"]) for s in kept) - returned_tax),
        "rounding": str(rounding - (refunds - sum((a for a, _, _ in returned_lines), D(0)))),
        "totalCollected": str(taken - refunds),
        "gross": str(gross),
        "net": str(taken - refunds),
        "voids": str(voided.total),  # voided in S1 on the 20th
        "averageBasket": str(((taken - refunds) / len(kept)).quantize(D("0.01"), ROUND_HALF_UP)),
    }
    assert refunds > 0 and returned > 0 and returned_tax > 0
    assert D(totals["netSales"]) + D(totals["tax"]) + D(totals["rounding"]) == taken - refunds
    # the day is New York's: the 00:30 sale of the 21st is out, the 23:30 one of the 20th in
    numbers = {s["number"] for s in kept}
    assert books["late"]["number"] in numbers and books["after_midnight"]["number"] not in numbers
    assert len(kept) == (1 if store else 2) and refunds > 0
    payments = every_page(client, "/api/v1/payments", **query)
    by_method: dict[str, Decimal] = {}
    for p in payments:
        by_method[p["method"]] = by_method.get(p["method"], D("0.00")) + D(p["amount"])
    assert {row["method"]: D(row["total"]) for row in data["byPaymentMethod"]} == by_method


def test_series_by_day_follows_the_company_calendar(api, world_a, books):
    data = report(api(world_a.admin), "sales", **{"from": "2026-11-20", "to": "2026-11-21"})
    series = {row["period"]: (row["count"], D(row["net"])) for row in data["series"]}
    assert sorted(series) == ["2026-11-20", "2026-11-21"]
    assert series["2026-11-20"][0] == 2 and series["2026-11-21"][0] == 1
    assert sum(net for _, net in series.values()) == D(data["totals"]["net"])
    two_days = {"from": "2026-11-20", "to": "2026-11-21"}
    month = report(api(world_a.admin), "sales", groupBy="month", **two_days)
    assert [(r["period"], r["count"]) for r in month["series"]] == [("2026-11-01", 3)]


def test_profit_uses_the_stored_line_costs(api, world_a, books):
    client = api(world_a.admin)
    before = report(client, "profit", **DAY)
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk__in=[books["oil"].pk, books["bread"].pk]).update(
            cost_price=D("99.0000")
        )
        lines = list(
            SaleItem.objects.filter(
                sale_id__in=[books["late"]["id"], books["morning"]["id"]]
            ).values("line_total", "tax_amount", "quantity", "unit_cost", "pk")
        )
        returned = SaleReturn.objects.get(pk=books["return"]["id"]).items.get()
        line = SaleItem.objects.get(pk=returned.sale_item_id)
    after = report(client, "profit", **DAY)
    assert after == before  # costs changed since: the report still uses the stored ones
    return_tax = (returned.refund_amount * line.tax_amount / line.line_total).quantize(
        D("0.01"), ROUND_HALF_UP
    )
    revenue = sum(x["line_total"] - x["tax_amount"] for x in lines) - (
        returned.refund_amount - return_tax
    )
    cost = (
        sum(x["quantity"] * x["unit_cost"] for x in lines) - returned.quantity * line.unit_cost
    ).quantize(D("0.01"), ROUND_HALF_UP)
    assert (D(after["revenue"]), D(after["costOfGoods"])) == (revenue, cost)
    assert D(after["grossProfit"]) == revenue - cost
    assert D(after["margin"]) == ((revenue - cost) * 100 / revenue).quantize(
        D("0.01"), ROUND_HALF_UP
    )
    expenses = every_page(client, "/api/v1/expenses", **DAY)
    assert D(after["expenses"]["total"]) == sum(D(e["amount"]) for e in expenses) == D("60.00")
    assert D(after["netProfit"]) == revenue - cost - D("60.00")
    by_store = {row["name"]: row for row in after["byStore"]}
    assert D(by_store[world_a.store.name]["expenses"]) == D("50.00")
    assert sum(D(r["revenue"]) for r in after["byStore"]) == revenue


def test_profit_for_a_store(api, world_a, books):
    client = api(world_a.admin)
    query = {**DAY, "storeId": str(world_a.store.pk)}
    data = report(client, "profit", **query)
    expenses = every_page(client, "/api/v1/expenses", **query)
    assert D(data["expenses"]["total"]) == sum(D(e["amount"]) for e in expenses) == D("50.00")
    assert [row["name"] for row in data["byStore"]] == [world_a.store.name]


def test_stock_as_of_replays_the_ledger(api, world_a, books):
    client = api(world_a.admin)
    now = report(client, "stock", storeId=str(world_a.store.pk))
    with tenant_context(world_a.tenant):
        from apps.inventory.models import StockLevel, StockMovement

        levels = {
            (lv.product_id, lv.variant_id): lv.quantity
            for lv in StockLevel.objects.filter(store=world_a.store)
        }
        at_end_of_20th = {}
        for m in StockMovement.objects.filter(store=world_a.store, created_at__lt=at(21, 0)):
            key = (m.product_id, m.variant_id)
            at_end_of_20th[key] = at_end_of_20th.get(key, D("0")) + m.delta
    assert D(now["totals"]["quantity"]) == sum(levels.values())
    past = report(client, "stock", storeId=str(world_a.store.pk), asOf="2026-11-20")
    assert D(past["totals"]["quantity"]) == sum(at_end_of_20th.values())
    # the 21st's sale of 10 bread is the only difference
    assert D(past["totals"]["quantity"]) - D(now["totals"]["quantity"]) == D("10")
    assert past["asOf"] == "2026-11-21T05:00:00Z"  # the end of the 20th in New York
    # valued at today's costs and prices: oil 3.1234 / 7.99, bread 0.4000 / 1.25
    oil, bread = at_end_of_20th[(books["oil"].pk, None)], at_end_of_20th[(books["bread"].pk, None)]
    cents = D("0.01")
    assert D(past["totals"]["costValue"]) == (oil * D("3.1234")).quantize(cents, ROUND_HALF_UP) + (
        bread * D("0.4000")
    ).quantize(cents, ROUND_HALF_UP)
    assert D(past["totals"]["retailValue"]) == oil * D("7.99") + bread * D("1.25")


def test_cashier_report(api, world_a, books):
    data = report(api(world_a.admin), "cashier", **DAY)
    (admin,) = [c for c in data["cashiers"] if c["userId"] == str(world_a.admin.pk)]
    with tenant_context(world_a.tenant):
        late = Sale.objects.get(pk=books["late"]["id"])
        morning = Sale.objects.get(pk=books["morning"]["id"])
        refund = SaleReturn.objects.get(pk=books["return"]["id"]).refund_total
    total = late.total + morning.total
    assert admin == {
        "userId": str(world_a.admin.pk), "name": world_a.admin.name, "count": 2,
        "total": str(total), "averageBasket": str((total / 2).quantize(D("0.01"), ROUND_HALF_UP)),
        "itemsPerSale": "3.00", "discounts": "0.00", "voids": 1, "returns": str(refund),
        "cashVariance": "0.00",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"groupBy": "hour"}, "groupBy"),
        ({"storeId": "nope"}, "storeId"),
    ],
)
def test_bad_filters_are_400(api, world_a, query, field):
    response = api(world_a.admin).get("/api/v1/reports/sales", query)
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_another_companys_store_is_404(api, world_a, world_b):
    for name in ("sales", "profit", "stock", "cashier"):
        response = api(world_a.admin).get(
            f"/api/v1/reports/{name}", {"storeId": str(world_b.store.pk)}
        )
        assert response.status_code == 404, name


def test_the_dashboard_and_store_stats_are_the_reports_figures(api, world_a, books):
    """Both read the sales report's own totals: today's figures equal the report for today
    (two sales today, one in each shop, one of them partly returned; November's are not today)."""
    from django.utils import timezone

    client = api(world_a.admin)
    sold = []
    for store, quantity in ((world_a.store, "4"), (world_a.other_store, "2")):
        cart = {"storeId": str(store.pk), "items": [
            {"productId": str(books["bread"].pk), "quantity": quantity}]}  # fmt: skip
        response = client.post(
            "/api/v1/sales/checkout",
            {**cart, "payments": [{"method": "CASH", "amount": "20.00"}]},
            format="json",
        )
        assert response.status_code == 201, response.content
        sold.append(response.json()["data"])
    returned = client.post(
        f"/api/v1/sales/{sold[0]['id']}/return",
        {"items": [{"itemId": sold[0]["items"][0]["id"], "quantity": "1"}],
         "refundMethod": "CASH", "reason": "Stale"},
        format="json",
    )  # fmt: skip
    assert returned.status_code == 201
    today = timezone.localtime(timezone.now(), NY).date().isoformat()
    totals = report(client, "sales", **{"from": today, "to": today})["totals"]
    taken = D(sold[0]["total"]) + D(sold[1]["total"])
    refund = D(returned.json()["data"]["refundTotal"])
    assert totals["count"] == 2 and D(totals["totalCollected"]) == taken - refund
    dashboard = client.get("/api/v1/tenants/me/dashboard").json()["data"]["today"]
    assert dashboard == {
        "salesCount": 2, "salesTotal": totals["net"], "averageSale": totals["averageBasket"],
    }  # fmt: skip
    store = client.get(f"/api/v1/stores/{world_a.store.pk}/stats").json()["data"]["today"]
    store_totals = report(
        client, "sales", **{"from": today, "to": today, "storeId": str(world_a.store.pk)}
    )["totals"]
    assert store == {"salesCount": 1, "salesTotal": store_totals["net"]}
