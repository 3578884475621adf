"""Exports are numbers (issue 25, point 5): a cell is typed from its column, never guessed from
its text. Money that a serializer renders as "-24.78" is written as the number -24.78 (CSV: plain;
XLSX: a numeric cell in the row's currency format); text starting with `=`, `+`, `-`, `@`, a tab
or a carriage return is defused with `'` (a phone number "+351 …" included); times are Excel
date-times in the company's time zone. PDF: human titles, no UUIDs, landscape when wide."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from apps.core.exports import (
    Column,
    Kind,
    csv_response,
    pdf_response,
    title_of,
    typed,
    xlsx_response,
)
from apps.receipts.tests.conftest import pdf_text

D = Decimal
COLUMNS = [
    Column("id", "ID", Kind.ID),
    Column("amount", "Amount", Kind.MONEY),
    Column("reference", "Reference"),
    Column("quantity", "Quantity", Kind.QUANTITY),
    Column("created_at", "Created at", Kind.DATETIME),
    Column("day", "Day", Kind.DATE),
    Column("count", "Count", Kind.INTEGER),
]
ID = "0b7c4f0e-3c1a-4c7e-9d59-0e4b7f1c2a11"
# As a list serializer renders them: Decimals, dates and times as strings.
ROWS = [
    {"id": ID, "amount": "-24.78", "reference": "+351 910 000 000", "quantity": "-3",
     "created_at": "2026-11-21T04:30:00Z", "day": "2026-11-20", "count": 2, "currency": "EUR"},
    {"id": ID, "amount": "1234.50", "reference": "=HYPERLINK(\"http://x\",\"y\")",
     "quantity": "1.25", "created_at": "2026-11-20T15:00:00.250000Z", "day": "2026-11-21",
     "count": 0, "currency": "USD"},
    {"id": ID, "amount": D("-0.05"), "reference": "-note", "quantity": None,
     "created_at": None, "day": None, "count": None},
    {"id": ID, "amount": "0.00", "reference": "@SUM(A1:A9)", "quantity": "0", "created_at": None,
     "day": None, "count": 1},
    {"id": ID, "amount": "5.00", "reference": "\tx", "quantity": "2", "created_at": None,
     "day": None, "count": 1},
    {"id": ID, "amount": "6.00", "reference": "\rx", "quantity": "2", "created_at": None,
     "day": None, "count": 1},
]  # fmt: skip
ESCAPED = ["'+351 910 000 000", "'=HYPERLINK(\"http://x\",\"y\")", "'-note", "'@SUM(A1:A9)",
           "'\tx", "'\rx"]  # fmt: skip


def test_csv_writes_numbers_plain_and_defuses_only_text():
    response = csv_response(COLUMNS, [dict(row) for row in ROWS], name="payments")
    text = b"".join(response.streaming_content).decode()
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == ["id", "amount", "reference", "quantity", "createdAt", "day", "count"]
    assert [row[1] for row in rows] == ["-24.78", "1234.50", "-0.05", "0.00", "5.00", "6.00"]
    assert sum(D(row[1]) for row in rows) == D("1220.67")  # numbers, parsed back as such
    assert [row[2] for row in rows] == ESCAPED
    assert [row[3] for row in rows] == ["-3", "1.25", "", "0", "2", "2"]
    # times and dates as the JSON has them (ISO 8601, UTC): parsed back as such
    assert rows[0][4] == "2026-11-21T04:30:00Z" and rows[0][5] == "2026-11-20"
    assert datetime.fromisoformat(rows[1][4]) == datetime.fromisoformat("2026-11-20T15:00:00.25Z")
    assert [row[6] for row in rows] == ["2", "0", "", "1", "1", "1"]


def test_a_value_not_of_its_columns_kind_is_text_and_defused():
    money = Column("amount", "Amount", Kind.MONEY)
    assert typed(money, "-24.78") == D("-24.78")
    assert typed(money, "=1+2") == "=1+2"  # no number: text (and defused as text is)
    response = csv_response([money], [{"amount": "=1+2"}, {"amount": "-1"}], name="x")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["amount"], ["'=1+2"], ["-1"]]
    assert typed(Column("at", "At", Kind.DATETIME), "-2026") == "-2026"


def test_xlsx_cells_are_typed_formatted_and_the_sheet_is_ready_to_read():
    response = xlsx_response(
        COLUMNS, [dict(row) for row in ROWS], name="payments", currency="GBP",
        time_zone="America/New_York", totals=("amount", "quantity"),
        summary=[(Column("from", "From", Kind.DATE), "2026-11-20"), ("storeId", ID)],
    )  # fmt: skip
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.title == "Payments"
    header, *rows = list(sheet.iter_rows())
    assert [c.value for c in header] == [c.title for c in COLUMNS]
    assert all(c.font.b for c in header)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G7"
    widths = {key: sheet.column_dimensions[key].width for key in "ABCDEFG"}
    assert widths["A"] == 38 and widths["E"] == 18 and 12 <= widths["C"] <= 40, widths
    amounts = [row[1] for row in rows]
    assert [c.value for c in amounts] == [-24.78, 1234.5, -0.05, 0, 5, 6]
    assert all(c.data_type == "n" for c in amounts)
    assert [c.number_format for c in amounts[:3]] == [
        '#,##0.00 "EUR"',
        '#,##0.00 "USD"',
        '#,##0.00 "GBP"',  # the row's, else the company's
    ]
    # (XML reads a carriage return back as a line feed)
    assert [row[2].value.replace("\n", "\r") for row in rows] == ESCAPED
    assert all(row[2].data_type == "s" for row in rows)
    assert [row[3].value for row in rows] == [-3, 1.25, None, 0, 2, 2]
    # 04:30 UTC on the 21st is 23:30 on the 20th in New York: a naive, formatted date-time
    assert rows[0][4].value == datetime(2026, 11, 20, 23, 30)
    assert rows[0][4].number_format == "yyyy-mm-dd hh:mm" and rows[0][4].is_date
    assert rows[1][4].value == datetime(2026, 11, 20, 10, 0, 0, 250000)
    assert rows[0][5].value == datetime(2026, 11, 20) and rows[0][5].number_format == "yyyy-mm-dd"
    assert [row[6].value for row in rows] == [2, 0, None, 1, 1, 1]
    summary = {label: cell for label, cell in book["Summary"].iter_rows(values_only=False)}
    labels = [label.value for label in summary]
    assert labels == ["From", "Store ID", "Sum of amount (EUR)", "Sum of amount (USD)",
                      "Sum of amount", "Sum of quantity", "Rows", "Currency", "Time zone",
                      "Generated"]  # fmt: skip
    values = {label.value: cell for label, cell in summary.items()}
    assert values["From"].value == datetime(2026, 11, 20)
    assert values["Sum of amount (EUR)"].value == -24.78
    assert values["Sum of amount (EUR)"].number_format == '#,##0.00 "EUR"'
    assert values["Sum of amount"].value == 10.95  # -0.05 + 0 + 5 + 6, in GBP
    assert values["Sum of amount"].number_format == '#,##0.00 "GBP"'
    assert values["Sum of quantity"].value == 2.25
    assert (values["Rows"].value, values["Currency"].value) == (6, "GBP")
    assert values["Time zone"].value == "America/New_York"
    assert isinstance(values["Generated"].value, datetime)


def test_titles_are_for_people():
    assert title_of("grossSales") == "Gross sales"
    assert title_of("gross_sales") == "Gross sales"
    assert title_of("store_id") == "Store ID"
    assert title_of("costOfGoods") == "Cost of goods"
    assert title_of("totals.base") == "Totals base"


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return [(float(page.mediabox.width), float(page.mediabox.height)) for page in pages]


def test_pdf_shows_titles_numbers_and_no_uuids_landscape_only_when_wide():
    narrow = pdf_response(
        COLUMNS[:3], [dict(row) for row in ROWS], name="p", title="Payments", company="ACME",
        currency="EUR", time_zone="America/New_York",
    )  # fmt: skip
    (width, height), *_ = _page_sizes(narrow.content)
    assert width < height  # portrait
    _pages, text = pdf_text(narrow.content)
    assert ID not in text and "ID" not in text.split("\n")[2]  # the id column is left out
    assert "Amount Reference" in text
    assert "-24.78 +351 910 000 000" in text  # the row's own currency is the company's
    assert "1,234.50 USD =HYPERLINK" in text  # another currency is written beside the amount
    wide_columns = COLUMNS + [Column(f"note_{n}", f"Note {n}") for n in range(8)]
    wide_rows = [{**row, **{f"note_{n}": "a longer text note" for n in range(8)}} for row in ROWS]
    wide = pdf_response(
        wide_columns, wide_rows, name="p", title="Payments", company="ACME", currency="EUR",
        time_zone="America/New_York",
    )  # fmt: skip
    (width, height), *_ = _page_sizes(wide.content)
    assert width > height  # landscape
    _pages, text = pdf_text(wide.content)
    assert "2026-11-20 23:30" in text  # the company's time, not UTC
    lines = text.splitlines()
    assert " ".join(lines).count("a longer text note") == 6 * 8  # wrapped between words,
    # never a letter a line
    assert not [line for line in lines if len(line.strip()) == 1 and line.strip().isalpha()]
    assert date(2026, 11, 20).isoformat() in text
