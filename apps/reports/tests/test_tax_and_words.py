"""Issue 25, point 6: the sales report's figures in accounting terms (gross sales, discounts,
returns, net sales, tax, rounding, total collected — all without tax but the last three), and
the tax report by rate, over a day that mixes both pricing modes, two tax rates, line and cart
discounts, cash rounding and a partial return. Every expected figure is worked out by hand below
(and the stored line amounts it starts from are asserted first)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from apps.catalog.models import Product
from apps.inventory.services import AdjustItem, stock_adjust
from apps.receipts.tests.conftest import pdf_text
from apps.reports.tables import TAX_KEYS
from apps.sales.models import Sale, SaleItem, SaleReturnItem
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
NY = ZoneInfo("America/New_York")
TAX = "/api/v1/reports/tax"
DAY = {"from": "2026-11-20", "to": "2026-11-20"}
TWO_DAYS = {"from": "2026-11-20", "to": "2026-11-21"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def data(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    return response.json()["data"]


def figures(base: str, tax: str, gross: str) -> dict[str, str]:
    return {"base": base, "tax": tax, "gross": gross}


@pytest.fixture
def mixed(api, world_a):
    """New York time, on the 20th, in S1:
    - 09:00, prices INCLUDE tax, cash rounding to 0.05: sale A = 2 x Wine 11.47 (23 %) with 4.29
      off the line, and 3 x Milk 2.36 (6 %); paid 30.00 cash;
    - 12:00, prices EXCLUDE tax: sale B = 1 x Wine and 2 x Milk with 10 % off the cart; card;
    - 23:30: one of sale A's two wines returned (cash);
    on the 21st at 10:00, the other wine of sale A returned (cash)."""
    company(world_a, timezone="America/New_York", prices_include_tax=True, cash_rounding="0.05")
    with tenant_context(world_a.tenant):
        wine = Product.objects.create(
            name="Wine", sku="TAX-WINE", status="ACTIVE", sell_price=D("11.47"),
            cost_price=D("5.0000"), tax_rate=D("23"),
        )  # fmt: skip
        milk = Product.objects.create(
            name="Milk", sku="TAX-MILK", status="ACTIVE", sell_price=D("2.36"),
            cost_price=D("1.0000"), tax_rate=D("6"),
        )  # fmt: skip
        with time_machine.travel(at(19, 9), tick=False):
            stock_adjust(
                actor=world_a.admin, store_id=world_a.store.pk, reason="FOUND",
                items=[AdjustItem(wine.pk, None, D("50")), AdjustItem(milk.pk, None, D("50"))],
            )  # fmt: skip

    def sell(when, body):
        with time_machine.travel(when, tick=False):
            response = api(world_a.admin).post(
                "/api/v1/sales/checkout", {"storeId": str(world_a.store.pk), **body}, format="json"
            )
        assert response.status_code == 201, response.content
        return response.json()["data"]

    def give_back(when, sale, quantity="1"):
        with tenant_context(world_a.tenant):
            item = SaleItem.objects.get(sale_id=sale["id"], product=wine)
        with time_machine.travel(when, tick=False):
            response = api(world_a.admin).post(
                f"/api/v1/sales/{sale['id']}/return",
                {"items": [{"itemId": str(item.pk), "quantity": quantity}],
                 "refundMethod": "CASH", "reason": "Corked"},
                format="json",
            )  # fmt: skip
        assert response.status_code == 201, response.content
        return response.json()["data"]

    a = sell(at(20, 9), {
        "items": [
            {"productId": str(wine.pk), "quantity": "2",
             "discount": {"type": "AMOUNT", "value": "4.29"}},
            {"productId": str(milk.pk), "quantity": "3"},
        ],
        "payments": [{"method": "CASH", "amount": "30.00"}],
    })  # fmt: skip
    company(world_a, prices_include_tax=False)
    b = sell(at(20, 12), {
        "items": [{"productId": str(wine.pk), "quantity": "1"},
                  {"productId": str(milk.pk), "quantity": "2"}],
        "discount": {"type": "PERCENT", "value": "10"},
        "payments": [{"method": "CARD", "amount": "17.20"}],
    })  # fmt: skip
    first = give_back(at(20, 23, 30), a)
    second = give_back(at(21, 10), a)
    return {"wine": wine, "milk": milk, "a": a, "b": b, "first": first, "second": second}


def test_the_scenarios_stored_amounts(world_a, mixed):
    """What the figures below are worked out from, as the sales stored it."""
    with tenant_context(world_a.tenant):
        stored = {
            (line.sale_id, line.name): (line.discount_amount, line.tax_amount, line.line_total)
            for line in SaleItem.objects.filter(sale_id__in=[mixed["a"]["id"], mixed["b"]["id"]])
        }
        a, b = Sale.objects.get(pk=mixed["a"]["id"]), Sale.objects.get(pk=mixed["b"]["id"])
        refunds = list(
            SaleReturnItem.objects.order_by("sale_return__sequence").values_list(
                "refund_amount", "sale_return__refund_total"
            )
        )
    a_id, b_id = a.pk, b.pk
    assert stored == {
        # with tax: 22.94 - 4.29 = 18.65, holding 18.65 x 23/123 = 3.49; 7.08 holds 0.40
        (a_id, "Wine"): (D("4.29"), D("3.49"), D("18.65")),
        (a_id, "Milk"): (D("0.00"), D("0.40"), D("7.08")),
        # without tax: 10 % of 16.19 = 1.62, spread 1.15 / 0.47; tax 23 % of 10.32, 6 % of 4.25
        (b_id, "Wine"): (D("1.15"), D("2.37"), D("12.69")),
        (b_id, "Milk"): (D("0.47"), D("0.26"), D("4.51")),
    }
    assert (a.prices_include_tax, a.total, a.rounding_adjustment) == (True, D("25.75"), D("0.02"))
    assert (b.prices_include_tax, b.total, b.rounding_adjustment) == (False, D("17.20"), D("0.00"))
    # half of 18.65 (9.33) and its share of the 0.02 rounding (0.01); then the rest (9.32)
    assert refunds == [(D("9.33"), D("9.34")), (D("9.32"), D("9.32"))]


def test_sales_report_words_add_up(api, world_a, mixed):
    client = api(world_a.admin)
    totals = data(client.get("/api/v1/reports/sales", DAY))["totals"]
    # gross sales without tax: A's wine 22.94 - its tax 4.29 = 18.65, A's milk 7.08 - 0.40 = 6.68,
    # B's lines 11.47 and 4.72 as priced; discounts without tax: A's 4.29 held 4.29 - 3.49 = 0.80
    # of tax (3.49 without), B's 1.15 + 0.47; the return: 9.33 less the wine's tax prorated
    # (3.49 / 2 = 1.75) = 7.58; tax = 3.49 + 0.40 + 2.37 + 0.26 - 1.75
    expected = {
        "count": 2,
        "grossSales": "41.52",
        "discounts": "5.11",
        "returns": "7.58",
        "netSales": "28.83",
        "tax": "4.77",
        "rounding": "0.01",  # A's 0.02, less the 0.01 its refund gave back
        "totalCollected": "33.61",  # 25.75 + 17.20 - 9.34
        "gross": "41.52",
        "net": "33.61",
        "voids": "0.00",
        "averageBasket": "16.81",
    }
    assert totals == expected
    n = {key: D(value) for key, value in totals.items() if key != "count"}
    assert n["grossSales"] - n["discounts"] - n["returns"] == n["netSales"]
    assert n["netSales"] + n["tax"] + n["rounding"] == n["totalCollected"]
    # the profit report's revenue is the same net sales, the cashier report's discounts the same
    assert data(client.get("/api/v1/reports/profit", DAY))["revenue"] == "28.83"
    (admin,) = data(client.get("/api/v1/reports/cashier", DAY))["cashiers"]
    assert (admin["userId"], admin["discounts"]) == (str(world_a.admin.pk), "5.11")


def test_sales_series_per_day_add_up_to_the_totals(api, world_a, mixed):
    report = data(api(world_a.admin).get("/api/v1/reports/sales", TWO_DAYS))
    series = {point.pop("period"): point for point in report["series"]}
    # the 21st: only the second return (9.32: 7.58 without tax, 3.49 - 1.75 = 1.74 of tax)
    assert series["2026-11-21"] == {
        "count": 0, "grossSales": "0.00", "discounts": "0.00", "returns": "7.58",
        "netSales": "-7.58", "tax": "-1.74", "rounding": "0.00", "totalCollected": "-9.32",
        "net": "-9.32",
    }  # fmt: skip
    assert series["2026-11-20"]["netSales"] == "28.83"
    for key in ("grossSales", "discounts", "returns", "netSales", "tax", "totalCollected"):
        assert sum(D(p[key]) for p in series.values()) == D(report["totals"][key]), key
    # the whole wine line is back: its 3.49 of tax exactly
    assert report["totals"]["tax"] == "3.03"  # 6.52 - 3.49


def test_tax_report_by_rate(api, world_a, mixed):
    report = data(api(world_a.admin).get(TAX, DAY))
    assert report == {
        "currency": "USD",
        "rates": [
            {
                "rate": "6.00",
                "sales": figures("10.93", "0.66", "11.59"),  # 6.68 + 4.25; 0.40 + 0.26
                "returns": figures("0.00", "0.00", "0.00"),
                "net": figures("10.93", "0.66", "11.59"),
            },
            {
                "rate": "23.00",
                "sales": figures("25.48", "5.86", "31.34"),  # 15.16 + 10.32; 3.49 + 2.37
                "returns": figures("7.58", "1.75", "9.33"),
                "net": figures("17.90", "4.11", "22.01"),
            },
        ],
        "totals": figures("28.83", "4.77", "33.60"),
    }
    assert "periods" not in report
    # the sales report's net sales and tax are the tax report's totals
    totals = data(api(world_a.admin).get("/api/v1/reports/sales", DAY))["totals"]
    assert (totals["netSales"], totals["tax"]) == (report["totals"]["base"], "4.77")


def test_tax_report_is_the_stored_line_amounts(api, world_a, mixed):
    """Per rate: base + tax = gross on every side, net = sales - returns, the rates add up to
    the totals, and the sales' base and tax are the sums of the stored line amounts."""
    report = data(api(world_a.admin).get(TAX, TWO_DAYS))
    with tenant_context(world_a.tenant):
        lines = list(SaleItem.objects.all())
    for row in report["rates"]:
        rate = D(row["rate"])
        for side in ("sales", "returns", "net"):
            part = {k: D(v) for k, v in row[side].items()}
            assert part["base"] + part["tax"] == part["gross"], (rate, side)
        for figure in ("base", "tax", "gross"):
            assert D(row["net"][figure]) == D(row["sales"][figure]) - D(row["returns"][figure])
        mine = [x for x in lines if x.tax_rate == rate]
        assert D(row["sales"]["tax"]) == sum(x.tax_amount for x in mine)
        assert D(row["sales"]["base"]) == sum(x.line_total - x.tax_amount for x in mine)
    for figure in ("base", "tax", "gross"):
        assert sum(D(r["net"][figure]) for r in report["rates"]) == D(report["totals"][figure])
    # both returns of the wine line of sale A: its whole stored tax and total, nothing more
    assert report["rates"][1]["returns"] == figures("15.16", "3.49", "18.65")


def test_tax_report_periods_by_day_and_month(api, world_a, mixed):
    client = api(world_a.admin)
    by_day = data(client.get(TAX, {**TWO_DAYS, "groupBy": "day"}))
    assert [p["period"] for p in by_day["periods"]] == ["2026-11-20", "2026-11-21"]
    day_one = data(client.get(TAX, DAY))
    assert by_day["periods"][0] == {"period": "2026-11-20", "rates": day_one["rates"],
                                    "totals": day_one["totals"]}  # fmt: skip
    assert by_day["periods"][1] == {
        "period": "2026-11-21",
        "rates": [{
            "rate": "23.00",
            "sales": figures("0.00", "0.00", "0.00"),
            "returns": figures("7.58", "1.74", "9.32"),
            "net": figures("-7.58", "-1.74", "-9.32"),
        }],
        "totals": figures("-7.58", "-1.74", "-9.32"),
    }  # fmt: skip
    # the rates and totals are the periods' sums
    assert by_day["totals"] == figures("21.25", "3.03", "24.28")
    by_month = data(client.get(TAX, {**TWO_DAYS, "groupBy": "month"}))
    assert [p["period"] for p in by_month["periods"]] == ["2026-11-01"]
    assert by_month["periods"][0]["rates"] == by_month["rates"] == by_day["rates"]


def test_a_whole_line_returned_piece_by_piece_gives_back_exactly_its_tax(api, world_a):
    """3 x 4.00 less 2.00 with tax included at 23 %: 10.00 holding 1.87. Returned one at a time,
    the refunds are 3.33, 3.34 and 3.33, and the tax given back 0.62, 0.63 and 0.62 (the stored
    tax prorated like the refunds; a share of each refund rounded apart would give 1.86)."""
    company(world_a, timezone="America/New_York", prices_include_tax=True)
    with tenant_context(world_a.tenant):
        pen = Product.objects.create(
            name="Pen", sku="TAX-PEN", status="ACTIVE", sell_price=D("4.00"), tax_rate=D("23"),
            track_stock=False,
        )  # fmt: skip
    client = api(world_a.admin)
    sale = client.post(
        "/api/v1/sales/checkout",
        {"storeId": str(world_a.store.pk),
         "items": [{"productId": str(pen.pk), "quantity": "3",
                    "discount": {"type": "AMOUNT", "value": "2.00"}}],
         "payments": [{"method": "CARD", "amount": "10.00"}]},
        format="json",
    )  # fmt: skip
    assert sale.status_code == 201, sale.content
    item = sale.json()["data"]["items"][0]
    assert (item["taxAmount"], item["lineTotal"]) == ("1.87", "10.00")
    refunds = []
    for _ in range(3):
        response = client.post(
            f"/api/v1/sales/{sale.json()['data']['id']}/return",
            {"items": [{"itemId": item["id"], "quantity": "1"}], "refundMethod": "CARD",
             "reason": "Leaks"},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        refunds.append(response.json()["data"]["refundTotal"])
    assert refunds == ["3.33", "3.34", "3.33"]
    (rate,) = data(client.get(TAX))["rates"]
    assert rate == {
        "rate": "23.00",
        "sales": figures("8.13", "1.87", "10.00"),
        "returns": figures("8.13", "1.87", "10.00"),
        "net": figures("0.00", "0.00", "0.00"),
    }
    assert data(client.get("/api/v1/reports/sales"))["totals"]["tax"] == "0.00"


def test_tax_report_counts_one_currency(api, world_a, mixed):
    """Documents keep the currency they were made in: the report sums one (the company's by
    default), never two."""
    with tenant_context(world_a.tenant):
        Sale.objects.filter(pk=mixed["b"]["id"]).update(currency="EUR")
    client = api(world_a.admin)
    usd = data(client.get(TAX, DAY))
    assert usd["currency"] == "USD"
    assert [(r["rate"], r["sales"]["base"]) for r in usd["rates"]] == [
        ("6.00", "6.68"), ("23.00", "15.16")
    ]  # fmt: skip
    eur = data(client.get(TAX, {**DAY, "currency": "eur"}))
    assert eur["currency"] == "EUR"
    assert [(r["rate"], r["sales"]["base"]) for r in eur["rates"]] == [
        ("6.00", "4.25"), ("23.00", "10.32")
    ]  # fmt: skip
    assert data(client.get(TAX, {**DAY, "currency": "JPY"}))["rates"] == []


def test_tax_report_files_parse_back_to_the_json(api, world_a, mixed):
    client = api(world_a.admin)
    query = {**TWO_DAYS, "groupBy": "day"}
    report = data(client.get(TAX, query))
    flat = [
        (p["period"], r["rate"], *(r[side][f] for side in ("sales", "returns", "net")
                                   for f in ("base", "tax", "gross")))
        for p in report["periods"] for r in p["rates"]
    ]  # fmt: skip
    assert len(flat) == 3
    response = client.get(TAX, {**query, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tax-report.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "period", "rate", "salesBase", "salesTax", "salesGross", "returnsBase", "returnsTax",
        "returnsGross", "netBase", "netTax", "netGross",
    ]  # fmt: skip
    assert [tuple(row) for row in rows[1:]] == flat  # "-7.58": a plain negative number
    book = load_workbook(io.BytesIO(client.get(TAX, {**query, "format": "xlsx"}).content))
    header, *cells = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(header) == len(TAX_KEYS)
    read = []
    for row in cells:
        assert all(isinstance(v, (int, float)) for v in row[1:])  # numbers, negatives too
        read.append((row[0].date().isoformat(), *(f"{D(str(v)):.2f}" for v in row[1:])))
    assert read == flat
    summary = [row[1] for row in book["Summary"].iter_rows(values_only=True)]
    numbers = {D(str(v)).quantize(D("0.01")) for v in summary if isinstance(v, (int, float))}
    assert {D("21.25"), D("3.03"), D("24.28")} <= numbers  # the totals, as numbers
    pages, text = pdf_text(client.get(TAX, {**query, "format": "pdf"}).content)
    assert pages >= 1 and "Tax report" in text and "-7.58" in text and "23.00" in text
    # without groupBy: a row per rate, no period column
    plain = client.get(TAX, {**DAY, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(plain.streaming_content).decode())))
    assert [(r["rate"], r["netBase"], r["netTax"]) for r in rows] == [
        ("6.00", "10.93", "0.66"), ("23.00", "17.90", "4.11")
    ]  # fmt: skip


def test_who_may_read_the_tax_report(api, world_a, mixed):
    assert data(api(world_a.manager).get(TAX, DAY))["totals"]["tax"] == "4.77"
    refused = api(world_a.cashier).get(TAX, DAY)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert api().get(TAX, DAY).status_code == 401


def test_another_companys_store_is_not_found_and_nothing_of_it_is_counted(
    api, world_a, world_b, mixed
):
    response = api(world_a.admin).get(TAX, {**DAY, "storeId": str(world_b.store.pk)})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "NOT_FOUND")
    theirs = api(world_b.admin).get(TAX, {**DAY, "storeId": str(world_a.store.pk)})
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert data(api(world_b.admin).get(TAX, DAY))["rates"] == []  # A's sales are not B's
    mine = data(api(world_a.admin).get(TAX, {**DAY, "storeId": str(world_a.store.pk)}))
    assert mine["totals"] == figures("28.83", "4.77", "33.60")
    other = data(api(world_a.admin).get(TAX, {**DAY, "storeId": str(world_a.other_store.pk)}))
    assert (other["rates"], other["totals"]) == ([], figures("0.00", "0.00", "0.00"))


@pytest.mark.parametrize(
    ("query", "field"),
    [({"groupBy": "week"}, "groupBy"), ({"currency": "EURO"}, "currency"),
     ({"from": "soon"}, "from"), ({"format": "docx"}, "format")],
)  # fmt: skip
def test_bad_tax_report_filters_are_400(api, world_a, query, field):
    response = api(world_a.admin).get(TAX, query)
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_a_tax_report_file_outside_the_plan_is_refused(api, world_a):
    from apps.tenants.tests.test_packages import on_plan

    on_plan(world_a, features=[])
    admin = api(world_a.admin)
    refused = admin.get(TAX, {"format": "csv"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FEATURE_NOT_IN_PLAN")
    assert data(admin.get(TAX))["currency"] == "USD"  # the JSON report is not gated
