"""The MIPOS reports: the sales summary (top products and categories, the weekday-by-hour heat
map in the company's zone) and the financial report (P&L equal to the profit report, payments
equal to the sales report, receivables aged by the due sale's date, payables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.customers.models import Customer
from apps.purchasing.models import Supplier
from apps.reports.tests.test_reconciliation import DAY, books, report  # noqa: F401 (fixture)
from apps.sales.models import Sale, SaleItem
from tests.factories.sales import sale_make
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal


def test_sales_summary(api, world_a, books):  # noqa: F811
    data = report(api(world_a.admin), "sales-summary", **DAY)
    with tenant_context(world_a.tenant):
        lines = SaleItem.objects.filter(sale_id__in=[books["late"]["id"], books["morning"]["id"]])
        oil_total = sum(x.line_total for x in lines if x.product_id == books["oil"].pk)
        bread_total = sum(x.line_total for x in lines if x.product_id == books["bread"].pk)
    assert [(p["name"], p["quantity"], D(p["total"]), p["sales"]) for p in data["topProducts"]] == [
        ("Oil", "4.000", oil_total, 2),
        ("Bread", "2.000", bread_total, 1),
    ]
    # the 20th of November 2026 is a Friday (5): 10:00 in S2 and 23:30 in S1, New York time
    assert [(c["weekday"], c["hour"], c["count"]) for c in data["heatMap"]] == [
        (5, 10, 1),
        (5, 23, 1),
    ]
    one = report(api(world_a.admin), "sales-summary", limit="1", **DAY)
    assert [p["name"] for p in one["topProducts"]] == ["Oil"]
    bad = api(world_a.admin).get("/api/v1/reports/sales-summary", {"limit": "0"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "limit"


def test_financial_report(api, world_a, books):  # noqa: F811
    with tenant_context(world_a.tenant):
        rita = Customer.objects.create(code="C-FIN1", name="Rita", credit_limit=D("100"))
        old = sale_make(
            store=world_a.store,
            cashier_id=world_a.cashier.pk,
            product=books["bread"],
            sequence=600_001,
        )
        recent = sale_make(
            store=world_a.store,
            cashier_id=world_a.cashier.pk,
            product=books["bread"],
            sequence=600_002,
        )
        now = timezone.now()
        Sale.objects.filter(pk=old.pk).update(
            customer=rita,
            due_amount=D("30.00"),
            due_paid=D("5.00"),
            created_at=now - timedelta(days=45),
        )
        Sale.objects.filter(pk=recent.pk).update(
            customer=rita, due_amount=D("12.00"), created_at=now - timedelta(days=3)
        )
        Supplier.objects.create(name="Fresh Foods", balance=D("250.00"))
        Supplier.objects.create(name="Paid up", balance=D("0.00"))
    client = api(world_a.admin)
    data = report(client, "financial", **DAY)
    profit = report(client, "profit", **DAY)
    sales = report(client, "sales", **DAY)
    assert data["profitAndLoss"] == {
        "revenue": profit["revenue"],
        "costOfGoods": profit["costOfGoods"],
        "grossProfit": profit["grossProfit"],
        "expenses": profit["expenses"]["total"],
        "netProfit": profit["netProfit"],
    }
    assert data["paymentsByMethod"] == sales["byPaymentMethod"]
    assert data["receivables"] == {
        "total": "37.00",
        "customers": 1,
        "ageing": [
            {"bucket": "0-30", "total": "12.00"},
            {"bucket": "31-60", "total": "25.00"},
            {"bucket": "61-90", "total": "0.00"},
            {"bucket": "90+", "total": "0.00"},
        ],
    }
    assert data["payables"]["total"] == "250.00"
    assert [s["name"] for s in data["payables"]["suppliers"]] == ["Fresh Foods"]


def test_inventory_report_follows_the_ledger(api, world_a, books):  # noqa: F811
    from datetime import UTC, datetime

    import time_machine

    from apps.inventory.models import StockMovement

    # "now" pinned: oil was last sold 5 days and 30 minutes before, bread 4 days 23.5 hours
    with time_machine.travel(datetime(2026, 11, 26, 5, 0, tzinfo=UTC), tick=False):
        client = api(world_a.admin)
        data = report(client, "inventory", storeId=str(world_a.store.pk), **DAY)
        dead = report(client, "inventory", storeId=str(world_a.store.pk), deadStockDays="5", **DAY)
    rows = {row["name"]: row for row in data["products"]}
    # S1 on the 20th: 50 of each found on the 19th; oil: 3 sold, 1 returned; bread: 2 sold, and
    # 4 sold then voided
    assert rows["Oil"] == {
        "productId": str(books["oil"].pk),
        "variantId": None,
        "name": "Oil",
        "variantName": None,
        "opening": "50.000",
        "in": {"RETURN": "1.000"},
        "out": {"SALE": "3.000"},
        "closing": "48.000",
    }
    assert (rows["Bread"]["in"], rows["Bread"]["out"], rows["Bread"]["closing"]) == (
        {"VOID": "4.000"},
        {"SALE": "6.000"},
        "48.000",
    )
    with tenant_context(world_a.tenant):
        for name, product in (("Oil", books["oil"]), ("Bread", books["bread"])):
            ledger = StockMovement.objects.filter(
                store=world_a.store, product=product, created_at__lt=books_end()
            )
            assert D(rows[name]["closing"]) == sum(m.delta for m in ledger)
    slow = [(r["name"], r["sold"]) for r in data["slowMovers"]]
    assert slow[:2] == [("Bread", "2.000"), ("Oil", "3.000")]
    assert data["deadStock"] == []  # both sold within 90 days
    assert [(r["name"], r["daysSinceLastSale"]) for r in dead["deadStock"]] == [("Oil", 5)]


def books_end():
    from apps.reports.tests.test_reconciliation import at

    return at(21, 0)


def test_trends_compare_with_the_period_before(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    day_21 = {"from": "2026-11-21", "to": "2026-11-21"}
    response = client.get("/api/v1/analytics/trends", day_21)
    assert response.status_code == 200, response.content[:300]
    data = response.json()["data"]
    this, before = (
        report(client, "sales", **day_21)["totals"],
        report(client, "sales", **DAY)["totals"],
    )
    assert {k: data["current"][k] for k in this} == this
    assert {k: data["previous"][k] for k in before} == before
    assert (data["current"]["from"], data["previous"]["from"], data["previous"]["to"]) == (
        "2026-11-21T05:00:00Z",
        "2026-11-20T05:00:00Z",
        "2026-11-21T05:00:00Z",
    )
    assert data["changePercent"]["count"] == "-50.00"  # 1 sale against 2
    expected = (D(this["net"]) - D(before["net"])) * 100 / D(before["net"])
    assert D(data["changePercent"]["net"]) == expected.quantize(D("0.01"), ROUND_HALF_UP)
    refused = client.get("/api/v1/analytics/trends", {"from": "2026-11-21"})
    assert refused.status_code == 400


def test_top_products_are_the_summarys(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    top = client.get("/api/v1/analytics/top-products", {**DAY, "limit": "5"})
    assert top.status_code == 200
    assert top.json()["data"] == report(client, "sales-summary", limit="5", **DAY)["topProducts"]


def _sold_at(world, product, *moments, also=()) -> None:
    for n, moment in enumerate(moments, start=1):
        with time_machine.travel(moment, tick=False):
            sale_make(
                store=world.store, cashier_id=world.cashier.pk, product=product,
                sequence=810_000 + n, also=also,
            )  # fmt: skip


def test_the_heat_map_in_a_half_hour_zone(api, world_a):
    """India is UTC+5:30: 18:29 UTC is Monday 23:59 there, 18:31 and 18:44 are Tuesday 00:01 and
    00:14. A product on two lines of one sale is on one sale."""
    company(world_a, timezone="Asia/Kolkata")
    with tenant_context(world_a.tenant):
        tea = Product.objects.create(name="Tea", sku="HEAT-TEA", status="ACTIVE")
        _sold_at(
            world_a, tea, *(datetime(2026, 11, 16, 18, m, tzinfo=UTC) for m in (29, 31, 44)),
            also=[tea],
        )  # fmt: skip
    data = report(api(world_a.admin), "sales-summary", **{"from": "2026-11-16", "to": "2026-11-17"})
    assert [(c["weekday"], c["hour"], c["count"], c["total"]) for c in data["heatMap"]] == [
        (1, 23, 1, "4.00"),
        (2, 0, 2, "8.00"),
    ]
    assert [(p["name"], p["quantity"], p["total"], p["sales"]) for p in data["topProducts"]] == [
        ("Tea", "12.000", "12.00", 3)
    ]


def test_the_heat_map_across_the_end_of_summer_time(api, world_a):
    """New York's clocks went back from 02:00 EDT to 01:00 EST on Sunday 1 November 2026: 05:10
    and 05:50 UTC (01:10, 01:50 EDT) and 06:30 UTC (01:30 EST) are all 1 o'clock; 07:00 UTC is
    02:00 EST."""
    company(world_a, timezone="America/New_York")
    with tenant_context(world_a.tenant):
        tea = Product.objects.create(name="Tea", sku="HEAT-TEA", status="ACTIVE")
        moments = [(5, 10), (5, 50), (6, 30), (7, 0)]
        _sold_at(world_a, tea, *(datetime(2026, 11, 1, h, m, tzinfo=UTC) for h, m in moments))
    data = report(api(world_a.admin), "sales-summary", **{"from": "2026-11-01", "to": "2026-11-01"})
    assert [(c["weekday"], c["hour"], c["count"]) for c in data["heatMap"]] == [
        (7, 1, 3),
        (7, 2, 1),
    ]
