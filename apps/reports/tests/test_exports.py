"""Exports: CSV and XLSX parse back to the JSON figures, text that looks like a formula is
defused (numbers are not), a PDF opens and holds the totals."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from apps.core.exports import cell_text
from apps.receipts.tests.conftest import pdf_text
from apps.reports.tests.test_reconciliation import books  # noqa: F401 (fixture)
from apps.stores.models import Store

pytestmark = pytest.mark.django_db

D = Decimal
RANGE = {"from": "2026-11-20", "to": "2026-11-21"}


def get(client, name, **query):
    response = client.get(f"/api/v1/reports/{name}", query)
    assert response.status_code == 200, response.content[:300]
    return response


def test_csv_is_the_jsons_main_list(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    data = get(client, "sales", **RANGE).json()["data"]
    response = get(client, "sales", format="csv", **RANGE)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sales-report.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [{key: str(value) for key, value in row.items()} for row in data["series"]]
    assert list(rows[0]) == [
        "period", "count", "grossSales", "discounts", "returns", "netSales", "tax", "rounding",
        "totalCollected", "net",
    ]  # fmt: skip
    cashiers = get(client, "cashier", **RANGE).json()["data"]["cashiers"]
    exported = get(client, "cashier", format="csv", **RANGE)
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [r["userId"] for r in rows] == [c["userId"] for c in cashiers]
    assert rows[0]["total"] == cashiers[0]["total"] and rows[0]["voids"] == "1"


def test_xlsx_cells_are_typed_and_equal_the_json(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    data = get(client, "profit", **RANGE).json()["data"]
    response = get(client, "profit", format="xlsx", **RANGE)
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("Period", "Revenue", "Cost of goods", "Gross profit")  # for people
    assert [r[0].date() for r in rows] == [  # date cells
        date.fromisoformat(p["period"]) for p in data["series"]
    ]
    for row, point in zip(rows, data["series"], strict=True):
        assert isinstance(row[1], (int, float)) and D(str(row[1])) == D(point["revenue"])
        assert D(str(row[2])) == D(point["costOfGoods"])
    assert sheet["B2"].number_format == '#,##0.00 "USD"'  # the company's currency
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:D{len(rows) + 1}"
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert D(str(summary["Revenue"])) == D(data["revenue"])
    assert D(str(summary["Net profit"])) == D(data["netProfit"])
    assert summary["From"].date() == date(2026, 11, 20)  # a date cell


def test_formula_looking_text_is_defused_but_numbers_are_not(api, world_a, books):  # noqa: F811
    with tenant_context(world_a.tenant):
        Store.objects.filter(pk=world_a.store.pk).update(name='=HYPERLINK("http://x","y")')
    client = api(world_a.admin)
    text = b"".join(get(client, "stock", format="csv").streaming_content).decode()
    assert "'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    book = load_workbook(io.BytesIO(get(client, "stock", format="xlsx").content))
    names = [row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x","y")' in names
    for name in ("=1+2", "+SUM(A1)", "-cmd", "@A1", "\tx"):
        assert cell_text(name) == "'" + name
    assert (cell_text(D("-4.50")), cell_text(-3), cell_text("Oil")) == ("-4.50", "-3", "Oil")


def test_pdf_opens_and_holds_the_totals(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    totals = get(client, "sales", **RANGE).json()["data"]["totals"]
    response = get(client, "sales", format="pdf", **RANGE)
    assert response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages >= 1
    for key, title in (("count", "Count"), ("returns", "Returns"),
                       ("averageBasket", "Average basket")):  # fmt: skip
        assert f"{title} {totals[key]}" in text
    assert "Company ACME" in text and "Sales report" in text and "2026-11-20" in text


def test_an_unknown_format_is_400(api, world_a):
    response = api(world_a.admin).get("/api/v1/reports/sales", {"format": "docx"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "format", "message": "Must be one of: json, csv, xlsx, pdf."}
    ]


LISTS = [
    ("/api/v1/sales", {"from": "2026-11-20", "to": "2026-11-21"}),
    ("/api/v1/products", {"search": "REP-"}),
    ("/api/v1/inventory/stock", {}),
    ("/api/v1/customers", {}),
    ("/api/v1/expenses", {"from": "2026-11-20", "to": "2026-11-20"}),
]


@pytest.mark.parametrize(("path", "query"), LISTS, ids=[path for path, _ in LISTS])
def test_lists_export_every_row_the_filters_select(api, world_a, books, path, query):  # noqa: F811
    """CSV: the same rows as every page of the JSON list for the same filters, in its order,
    with its scalar fields; XLSX: as many rows; PDF: opens."""
    from apps.reports.tests.test_reconciliation import every_page

    with tenant_context(world_a.tenant):
        from apps.customers.models import Customer

        Customer.objects.create(code="C-EXP1", name="=cmd|' /C calc'!A0")
        Customer.objects.create(code="C-EXP2", name="Plain Customer")
    client = api(world_a.admin)
    listed = every_page(client, path, **query)
    assert len(listed) >= 2, path
    response = get_list(client, path, format="csv", **query)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    def identity(row):  # stock levels are named by their location, product and variant
        if "id" in row:
            return str(row["id"])
        return (row["storeId"], row["productId"], row["variantId"] or "")

    assert [identity(r) for r in rows] == [identity(item) for item in listed]
    first = listed[0]
    for key, value in rows[0].items():
        expected = first[key]
        if isinstance(expected, bool):
            expected = "true" if expected else "false"
        elif expected is None:
            expected = ""
        elif isinstance(expected, str) and not NUMBER.fullmatch(expected):
            expected = cell_text(expected)  # text is defused; numbers (even "-1.50") are not
        assert value == str(expected), key
    if path == "/api/v1/customers":
        assert "'=cmd|' /C calc'!A0" in [r["name"] for r in rows]
    book = load_workbook(io.BytesIO(get_list(client, path, format="xlsx", **query).content))
    assert book.worksheets[0].max_row == len(listed) + 1
    pages, _text = pdf_text(get_list(client, path, format="pdf", **query).content)
    assert pages >= 1


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def get_list(client, path, **query):
    response = client.get(path, query)
    assert response.status_code == 200, response.content[:300]
    return response


def test_sale_lines_export_every_line_of_the_period(api, world_a, books):  # noqa: F811
    from apps.sales.models import SaleItem

    with tenant_context(world_a.tenant):
        Store.objects.filter(pk=world_a.store.pk).update(code="S1")
        lines = list(
            SaleItem.objects.filter(
                sale_id__in=[books["late"]["id"], books["morning"]["id"]]
            ).order_by("sale__created_at", "sale_id", "position")
        )
    client = api(world_a.admin)
    page = get_list(client, "/api/v1/reports/sale-lines", limit="1", **DAY_QUERY).json()
    assert page["meta"]["total"] == len(lines) == 3  # the voided sale's line is out
    exported = get_list(client, "/api/v1/reports/sale-lines", format="csv", **DAY_QUERY)
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [(r["id"], r["quantity"], r["total"], r["unitCost"]) for r in rows] == [
        (str(x.pk), str(x.quantity), str(x.line_total), str(x.unit_cost)) for x in lines
    ]
    assert rows[0]["saleNumber"] == books["morning"]["number"]  # 10:00 before 23:30


DAY_QUERY = {"from": "2026-11-20", "to": "2026-11-20"}


def test_sale_lines_xlsx_has_its_summary_filled(api, world_a, books):  # noqa: F811
    """The Summary sheet: the filters (the store by its name), the sums of the lines' quantity,
    discount, tax and total, the line count; the lines typed, with the names of their store and
    product next to the ids."""
    from django.db.models import Sum

    from apps.sales.models import SaleItem

    with tenant_context(world_a.tenant):
        lines = SaleItem.objects.filter(sale_id=books["late"]["id"])
        sums = lines.aggregate(
            quantity=Sum("quantity"), discount=Sum("discount_amount"), tax=Sum("tax_amount"),
            total=Sum("line_total"),
        )  # fmt: skip
    client = api(world_a.admin)
    query = {**DAY_QUERY, "storeId": str(world_a.store.pk)}
    book = load_workbook(
        io.BytesIO(get_list(client, "/api/v1/reports/sale-lines", format="xlsx", **query).content)
    )
    assert book.sheetnames == ["Sale lines", "Summary"]
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["From"] == summary["To"] == datetime(2026, 11, 20)
    assert summary["Store"] == world_a.store.name  # not its id
    assert D(str(summary["Sum of quantity"])) == sums["quantity"] == D("5")
    assert D(str(summary["Sum of discount"])) == sums["discount"]
    assert D(str(summary["Sum of tax"])) == sums["tax"]
    assert D(str(summary["Sum of total"])) == sums["total"] == D(books["late"]["total"])
    assert summary["Rows"] == 2
    sheet = book["Sale lines"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    line = dict(zip(header, rows[0], strict=True))
    assert (line["Store"], line["Product"], line["SKU"]) == (world_a.store.name, "Oil", "REP-OIL")
    assert line["Sold at"] == datetime(2026, 11, 20, 23, 30)  # New York's clock
    assert line["Quantity"] == 3 and line["Tax rate"] == 23


def test_a_formula_looking_product_name_is_defused(api, world_a):
    from apps.catalog.models import Product

    with tenant_context(world_a.tenant):
        Product.objects.create(name="=2+5", sku="FX-1", status="ACTIVE")
        Product.objects.create(name="@SUM(A1:A9)", sku="FX-2", status="ACTIVE")
    client = api(world_a.admin)
    exported = get_list(client, "/api/v1/products", format="csv", search="FX-")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert sorted(r["name"] for r in rows) == ["'=2+5", "'@SUM(A1:A9)"]
    book = load_workbook(
        io.BytesIO(get_list(client, "/api/v1/products", format="xlsx", search="FX-").content)
    )
    cells = [c.value for row in book.worksheets[0].iter_rows(min_row=2) for c in row]
    assert "'=2+5" in cells and not any(
        c.data_type == "f" for row in book.worksheets[0].iter_rows() for c in row
    )
