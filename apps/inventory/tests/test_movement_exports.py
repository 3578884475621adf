"""`GET /api/v1/inventory/movements?format=csv|xlsx|pdf` (issue 25, point 5): the ledger rows the
list's filters select, a negative delta as a number, notes defused as text, the reference in two
columns, the names of the store, product, variant and user instead of ids; the list's permission
and store scope; the caller's company only."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from apps.core.roles import ROLE_PERMISSIONS, Role
from apps.inventory.models import StockMovement
from apps.inventory.services import AdjustItem, stock_adjust
from apps.receipts.tests.conftest import pdf_text
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PATH = "/api/v1/inventory/movements"
DAY = {"from": "2026-11-20", "to": "2026-11-20"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ledger(world_a, world_b) -> dict[str, StockMovement]:
    """On the 20th (New York), of the product's variant: 10 found in S1 by the manager (12:00,
    a note that looks like a phone number), 3 damaged by the admin (a formula-looking note, 23:30
    New York = the 21st in UTC), 2 found in S2 (note "-", 15:00); company B's own the same day."""
    company(world_a, timezone="America/New_York")

    def adjust(world, actor, store, when, delta, note):
        with time_machine.travel(when, tick=False), tenant_context(world.tenant):
            stock_adjust(
                actor=actor, store_id=store.pk, reason="FOUND" if delta > 0 else "DAMAGE",
                note=note, items=[AdjustItem(world.product.pk, world.variant.pk, D(delta))],
            )  # fmt: skip
            return StockMovement.objects.get(created_at=when, store=store)

    rows = {
        "found": adjust(
            world_a, world_a.manager, world_a.store, at(20, 17), 10, "+351 910 000 000"
        ),
        "damaged": adjust(world_a, world_a.admin, world_a.store, at(21, 4, 30), -3, "=1+2"),
        "other_store": adjust(world_a, world_a.admin, world_a.other_store, at(20, 20), 2, "-"),
        "company_b": adjust(world_b, world_b.admin, world_b.store, at(20, 17), 4, "B"),
    }
    return rows


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def get(client, **query):
    response = client.get(PATH, query)
    assert response.status_code == 200, response.content[:300]
    return response


def test_csv_is_the_ledger_with_numbers_and_defused_text(api, world_a, ledger):
    client = api(world_a.admin)
    listed = get(client, **DAY).json()["data"]
    response = get(client, format="csv", **DAY)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="stock-movements.csv"'
    rows = csv_rows(response)
    order = [str(ledger[name].pk) for name in ("damaged", "other_store", "found")]
    assert [r["id"] for r in rows] == [m["id"] for m in listed] == order
    assert list(rows[0]) == [
        "id", "storeId", "productId", "variantId", "type", "delta", "quantityAfter", "reason",
        "note", "referenceType", "referenceId", "userId", "createdAt",
    ]  # fmt: skip
    assert [(r["delta"], r["quantityAfter"], r["note"]) for r in rows] == [
        ("-3", "7", "'=1+2"),
        ("2", "2", "'-"),
        ("10", "10", "'+351 910 000 000"),
    ]
    assert rows[0]["createdAt"] == listed[0]["createdAt"] == "2026-11-21T04:30:00Z"
    assert rows[0]["userId"] == str(world_a.admin.pk)


def test_xlsx_has_typed_cells_names_and_a_summary(api, world_a, ledger):
    response = get(api(world_a.admin), format="xlsx", **DAY)
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.title == "Stock movements"
    header, *rows = list(sheet.iter_rows())
    titles = [cell.value for cell in header]
    assert titles == [
        "ID", "Store ID", "Store", "Product ID", "Product", "Variant ID", "Variant", "Type",
        "Delta", "Quantity after", "Reason", "Note", "Reference type", "Reference ID", "User ID",
        "User", "Created at",
    ]  # fmt: skip
    cells = [dict(zip(titles, row, strict=True)) for row in rows]
    assert [(c["Delta"].value, c["Delta"].data_type) for c in cells] == [
        (-3, "n"),
        (2, "n"),
        (10, "n"),
    ]
    assert [c["Note"].value for c in cells] == ["'=1+2", "'-", "'+351 910 000 000"]
    assert [c["Store"].value for c in cells] == ["acme S1", "acme S2", "acme S1"]
    assert [c["Product"].value for c in cells] == ["Cola 330ml"] * 3
    assert [c["Variant"].value for c in cells] == ["M"] * 3
    assert [c["User"].value for c in cells] == ["Admin acme", "Admin acme", "Manager acme"]
    assert [c["Created at"].value for c in cells] == [
        datetime(2026, 11, 20, 23, 30),
        datetime(2026, 11, 20, 15),
        datetime(2026, 11, 20, 12),
    ]
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert (summary["Sum of delta"], summary["Rows"]) == (9, 3)


def test_pdf_names_instead_of_ids(api, world_a, ledger):
    response = get(api(world_a.admin), format="pdf", **DAY)
    assert response["Content-Type"] == "application/pdf"
    _pages, text = pdf_text(response.content)
    assert not UUID_TEXT.search(text), text
    for name in ("Stock movements", "acme S1", "acme S2", "Cola 330ml", "Admin acme",
                 "Manager acme", "=1+2", "-3", "2026-11-20 23:30", "Sum of delta 9"):  # fmt: skip
        assert name in text, name


def test_a_cashier_exports_their_stores_movements_only(api, world_a, ledger):
    rows = csv_rows(get(api(world_a.cashier), format="csv", **DAY))
    assert [r["id"] for r in rows] == [str(ledger["damaged"].pk), str(ledger["found"].pk)]


def test_a_role_without_the_lists_permission_is_refused(api, world_a, ledger, monkeypatch):
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.CASHIER, ROLE_PERMISSIONS[Role.CASHIER] - {"inventory:read"}
    )
    for output in ("csv", "xlsx", "pdf"):
        response = api(world_a.cashier).get(PATH, {"format": output})
        assert response.status_code == 403, output
        assert response.json()["error"]["code"] == "FORBIDDEN"


def test_only_the_callers_company(api, world_a, world_b, ledger):
    rows = csv_rows(get(api(world_b.admin), format="csv", **DAY))
    assert [r["id"] for r in rows] == [str(ledger["company_b"].pk)]
    book = load_workbook(io.BytesIO(get(api(world_b.admin), format="xlsx", **DAY).content))
    assert [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        str(ledger["company_b"].pk)
    ]
