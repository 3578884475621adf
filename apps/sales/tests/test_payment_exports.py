"""`GET /api/v1/payments?format=csv|xlsx|pdf` (issue 25, point 5): every payment the list's
filters select, as numbers (a refund's -24.78 is a number, in the payment's own currency), text
defused (a reference "+351 …" is text), the company's time, the names of the store, customer and
cashier instead of their ids; the list's permission and store scope; the caller's company only."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from apps.core.roles import ROLE_PERMISSIONS, Role
from apps.customers.models import Customer
from apps.receipts.tests.conftest import pdf_text
from apps.sales.models import Payment
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAY = {"from": "2026-11-20", "to": "2026-11-20"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def payments(world_a, world_b) -> dict[str, Payment]:
    """In New York time, on the 20th: a refund of -24.78 EUR (reference a phone number) and a
    card payment of 1,234.50 USD (a formula-looking reference) in S1, cash in S2; one on the
    21st (New York) that is the 20th in UTC; and one of company B."""
    company(world_a, timezone="America/New_York", currency="EUR")
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(code="C-ANA", name="Ana Silva")
        rows = {
            "refund": Payment.objects.create(
                kind="REFUND", method="CASH", amount=D("-24.78"), currency="EUR",
                reference="+351 910 000 000", store=world_a.store, customer=ana,
                created_by=world_a.cashier.pk, created_at=at(20, 15),
            ),
            "card": Payment.objects.create(
                kind="SALE", method="CARD", amount=D("1234.50"), currency="USD",
                reference='=HYPERLINK("http://x","y")', store=world_a.store,
                created_by=world_a.manager.pk, created_at=at(21, 4, 30),  # 23:30 on the 20th
            ),
            "other_store": Payment.objects.create(
                kind="SALE", method="CASH", amount=D("5.00"), currency="EUR", reference="-",
                store=world_a.other_store, created_by=world_a.admin.pk, created_at=at(20, 12),
            ),
            "next_day": Payment.objects.create(
                kind="SALE", method="CASH", amount=D("7.00"), currency="EUR", reference="",
                store=world_a.store, created_by=world_a.admin.pk, created_at=at(21, 6),
            ),
        }  # fmt: skip
    with tenant_context(world_b.tenant):
        rows["company_b"] = Payment.objects.create(
            kind="SALE", method="CASH", amount=D("9.99"), currency="USD", reference="B",
            store=world_b.store, created_by=world_b.admin.pk, created_at=at(20, 15),
        )  # fmt: skip
    return rows


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def get(client, **query):
    response = client.get("/api/v1/payments", query)
    assert response.status_code == 200, response.content[:300]
    return response


def test_csv_is_the_list_with_numbers_and_defused_text(api, world_a, payments):
    client = api(world_a.admin)
    listed = get(client, **DAY).json()["data"]
    response = get(client, format="csv", **DAY)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="payments.csv"'
    rows = csv_rows(response)
    assert (
        [r["id"] for r in rows]
        == [p["id"] for p in listed]
        == [str(payments[name].pk) for name in ("card", "refund", "other_store")]
    )
    assert list(rows[0]) == [key for key, value in listed[0].items() if key != "allocations"]
    assert [(r["amount"], r["currency"], r["reference"]) for r in rows] == [
        ("1234.50", "USD", '\'=HYPERLINK("http://x","y")'),
        ("-24.78", "EUR", "'+351 910 000 000"),  # a number; a phone number is text
        ("5.00", "EUR", "'-"),
    ]
    assert [D(r["amount"]) for r in rows] == [D("1234.50"), D("-24.78"), D("5.00")]
    assert rows[1]["createdAt"] == listed[1]["createdAt"] == "2026-11-20T15:00:00Z"
    assert rows[1]["createdBy"] == str(world_a.cashier.pk)  # CSV: the wire's ids


def test_xlsx_has_typed_cells_names_and_a_summary(api, world_a, payments):
    response = get(api(world_a.admin), format="xlsx", **DAY)
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="payments.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header, *rows = list(sheet.iter_rows())
    titles = [cell.value for cell in header]
    assert titles == [
        "ID", "Kind", "Method", "Amount", "Currency", "Reference", "Store ID", "Store",
        "Sale ID", "Sale number", "Customer ID", "Customer", "Return ID", "Created by",
        "Cashier", "Created at",
    ]  # fmt: skip
    cells = [dict(zip(titles, row, strict=True)) for row in rows]
    assert [c["Amount"].value for c in cells] == [1234.5, -24.78, 5]
    assert [c["Amount"].data_type for c in cells] == ["n", "n", "n"]
    assert [c["Amount"].number_format for c in cells] == [
        '#,##0.00 "USD"',
        '#,##0.00 "EUR"',
        '#,##0.00 "EUR"',  # each payment's own currency
    ]
    assert [c["Reference"].value for c in cells] == [
        '\'=HYPERLINK("http://x","y")',
        "'+351 910 000 000",
        "'-",
    ]
    # the company's wall clock (New York), as Excel date-times
    assert [c["Created at"].value for c in cells] == [
        datetime(2026, 11, 20, 23, 30),
        datetime(2026, 11, 20, 10, 0),
        datetime(2026, 11, 20, 7),
    ]
    assert all(c["Created at"].is_date for c in cells)
    assert [c["Store"].value for c in cells] == ["acme S1", "acme S1", "acme S2"]
    assert [c["Customer"].value for c in cells] == [None, "Ana Silva", None]
    assert [c["Cashier"].value for c in cells] == ["Manager acme", "Cashier acme", "Admin acme"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:P4"
    summary = {label: value for label, value in book["Summary"].iter_rows(values_only=True)}
    assert summary["From"] == datetime(2026, 11, 20) and summary["To"] == datetime(2026, 11, 20)
    assert summary["Sum of amount"] == -19.78  # EUR, the company's: -24.78 + 5.00
    assert summary["Sum of amount (USD)"] == 1234.5  # never added to euros
    assert (summary["Rows"], summary["Currency"]) == (3, "EUR")
    assert summary["Time zone"] == "America/New_York"


def test_pdf_names_instead_of_ids(api, world_a, payments):
    response = get(api(world_a.admin), format="pdf", store_id=str(world_a.store.pk), **DAY)
    assert response["Content-Type"] == "application/pdf"
    _pages, text = pdf_text(response.content)
    assert not UUID_TEXT.search(text), text
    for name in ("Payments", "Company ACME", "Store acme S1", "Ana Silva", "Cashier acme",
                 "Manager acme", "-24.78", "1,234.50 USD", "+351 910 000 000",
                 "2026-11-20 23:30", "Sum of amount -24.78 EUR", "Rows 2"):  # fmt: skip
        assert name in text, name
    assert "acme S2" not in text.replace("Store acme S1", "")  # the filter: S1 only


def test_a_cashier_exports_their_stores_payments_only(api, world_a, payments):
    rows = csv_rows(get(api(world_a.cashier), format="csv", **DAY))
    assert [r["id"] for r in rows] == [str(payments["card"].pk), str(payments["refund"].pk)]


def test_a_role_without_the_lists_permission_is_refused(api, world_a, payments, monkeypatch):
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.CASHIER, ROLE_PERMISSIONS[Role.CASHIER] - {"sale:read"}
    )
    for output in ("csv", "xlsx", "pdf"):
        response = api(world_a.cashier).get("/api/v1/payments", {"format": output})
        assert response.status_code == 403, output
        assert response.json()["error"]["code"] == "FORBIDDEN"


def test_only_the_callers_company(api, world_a, world_b, payments):
    rows = csv_rows(get(api(world_b.admin), format="csv"))
    assert [r["id"] for r in rows] == [str(payments["company_b"].pk)]
    book = load_workbook(io.BytesIO(get(api(world_b.admin), format="xlsx").content))
    assert [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        str(payments["company_b"].pk)
    ]
    everything = {r["id"] for r in csv_rows(get(api(world_a.admin), format="csv"))}
    assert str(payments["company_b"].pk) not in everything and len(everything) == 4


def test_a_plan_without_exports_refuses_the_file_not_the_list(api, world_a, payments):
    from apps.tenants.models import Package, Tenant

    package = Package.objects.create(name="No files", features=[])
    Tenant.objects.filter(pk=world_a.tenant.pk).update(package=package)
    client = api(world_a.admin)
    refused = client.get("/api/v1/payments", {"format": "csv"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FEATURE_NOT_IN_PLAN"
    assert client.get("/api/v1/payments").status_code == 200


def test_names_cost_one_query_per_kind_not_per_row(api, world_a, payments):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(world_a.admin)
    client.get("/api/v1/payments")  # the session's statements prepared

    def queries(output: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            get(client, format=output)
        return len(captured.captured_queries)

    before = {output: queries(output) for output in ("xlsx", "pdf")}
    with tenant_context(world_a.tenant):
        for n in range(20):
            customer = Customer.objects.create(code=f"C-Q{n}", name=f"Customer {n}")
            Payment.objects.create(
                kind="DUE", method="CASH", amount=D("1.00"), currency="EUR", customer=customer,
                store=world_a.other_store if n % 2 else world_a.store,
                created_by=(world_a.manager if n % 2 else world_a.cashier).pk,
            )  # fmt: skip
    assert {output: queries(output) for output in ("xlsx", "pdf")} == before
