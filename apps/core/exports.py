"""Tables as files: CSV (streamed row by row), XLSX (typed, formatted cells) and PDF (a table
to read).

A table is a list of columns and rows of values (dicts keyed by the columns' keys, snake_case).
Each column has a kind (text, id, money, quantity, date-time…) known from where its rows come
from: the list serializer's field types (which render a Decimal as the string "-24.78") or the
report's Python values. A cell is typed from its column, never guessed from its text: a money
amount "-24.78" is the number -24.78; a phone number "+351 910…" in a text column is text. Only
text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) is prefixed with `'`; numbers, dates and times are written as such.

CSV keeps the wire's keys and values (camelCase header, amounts as plain decimals, times ISO 8601
UTC as in the JSON). XLSX: human titles, money with the row's currency (else the company's) in
its number format, times as Excel date-times in the company's time zone, widths from the header
and the first rows, a frozen header row with a filter, and a Summary sheet. PDF: human titles, no
UUIDs (a list shows names next to its ids in XLSX and instead of them in PDF), numbers right-
aligned, landscape and a smaller type when the table is wide."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core import replica
from apps.core.renderers import camel_key

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FILE_FORMATS = ("csv", "xlsx", "pdf")
FORMATS = ("json", *FILE_FORMATS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"  # a UUID: kept in CSV and XLSX, never shown in a PDF
    MONEY = "money"  # in the row's currency, else the table's
    QUANTITY = "quantity"
    NUMBER = "number"  # any other decimal figure (items per sale)
    PERCENT = "percent"  # a rate written in percent ("23.00")
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "datetime"  # an instant: shown in the company's time zone
    BOOL = "bool"


DECIMALS = frozenset({Kind.MONEY, Kind.QUANTITY, Kind.NUMBER, Kind.PERCENT})
NUMERIC = DECIMALS | {Kind.INTEGER}
# A decimal figure is money unless its name says it is a rate (tax_rate, margin_percent, margin).
PERCENT_NAMES = ("rate", "percent", "margin")


@dataclass(frozen=True)
class Column:
    key: str  # as the rows hold it (snake_case); camelCase in a CSV header
    title: str  # what a person reads: "Gross sales"
    kind: Kind = Kind.TEXT
    places: int = 2  # decimal places money is shown with (4 for unit costs)


ACRONYMS = {"id": "ID", "sku": "SKU", "vat": "VAT"}


def title_of(key: str) -> str:
    """`gross_sales` or `grossSales` → "Gross sales"; `store_id` → "Store ID"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace(".", " ")
    words = [ACRONYMS.get(word.lower(), word.lower()) for word in spaced.split()]
    if not words:
        return key
    return words[0][:1].upper() + words[0][1:] + "".join(" " + word for word in words[1:])


def kind_of_value(key: str, value: Any) -> Kind:
    """A column's kind from a Python value of it (reports hand their figures typed)."""
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int):
        return Kind.INTEGER
    if isinstance(value, (Decimal, float)):
        return Kind.PERCENT if key.lower().endswith(PERCENT_NAMES) else Kind.MONEY
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    if isinstance(value, UUID):
        return Kind.ID
    return Kind.TEXT


def column_of(
    key: str | Column, rows: Sequence[Mapping[str, Any]] = (), kinds: Mapping[str, Kind] = {}
) -> Column:
    """`key` as a Column: its kind from `kinds` (by key), else from the first value in `rows`."""
    if isinstance(key, Column):
        return key
    kind = kinds.get(key)
    if kind is None:
        value = next((row.get(key) for row in rows if row.get(key) is not None), None)
        kind = kind_of_value(key, value)
    return Column(key, title_of(key), kind)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("not a number")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError("not finite")
    return number


def typed(column: Column, value: Any) -> Any:
    """The cell's value as its column's kind says it is (a money field's "-24.78" is
    Decimal("-24.78"), a date-time field's ISO text a datetime); a value that is not of its kind
    is text (and defused as text is)."""
    if value is None or (value == "" and column.kind is not Kind.TEXT):
        return None
    kind = column.kind
    try:
        if kind in DECIMALS:
            return _decimal(value)
        if kind is Kind.INTEGER:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            return int(str(value))
        if kind is Kind.DATETIME or kind is Kind.DATE:
            if isinstance(value, date):
                return value
            text = str(value)
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        if kind is Kind.BOOL and isinstance(value, bool):
            return value
        if kind is Kind.ID:
            return str(value if isinstance(value, UUID) else UUID(str(value)))
    except (ValueError, TypeError, ArithmeticError):
        pass
    return value if isinstance(value, str) else str(value)


def defused(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with `'`."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Any) -> str:
    """A value as CSV text by its Python type: numbers as they are, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return defused(str(value))


def csv_cell(column: Column, value: Any) -> str:
    """A CSV cell: the JSON's text where a spreadsheet would not run it (amounts, ISO 8601 times
    as they are: parsed only when they start like a formula, "-24.78" being the number)."""
    text = isinstance(value, str)
    if text and (column.kind is Kind.TEXT or not value.startswith(FORMULA_STARTS)):
        return defused(value)
    return cell_text(typed(column, value))


@dataclass(frozen=True)
class Company:
    """What the files of the current company are written in: its currency (for rows that carry
    none) and its time zone (where its clocks are)."""

    currency: str | None
    time_zone: str

    @classmethod
    def current(cls) -> Company:
        """From the settings of the company whose schema the connection is on (read as an
        attribute: core does not import the tenants app)."""
        from django.core.exceptions import ObjectDoesNotExist
        from django.db import connection

        try:
            settings = connection.tenant.settings
        except (AttributeError, ObjectDoesNotExist):
            return cls(None, "UTC")
        return cls(settings.currency or None, settings.timezone or "UTC")


def _company(currency: str | None, time_zone: str | None) -> Company:
    if currency is not None and time_zone is not None:
        return Company(currency, time_zone)
    here = Company.current()
    return Company(currency or here.currency, time_zone or here.time_zone)


def _columns(keys: Sequence[str | Column], rows: Sequence[Mapping[str, Any]]) -> list[Column]:
    return [column_of(key, rows) for key in keys]


def _peek(rows: Iterable[dict[str, Any]], count: int) -> tuple[list[dict[str, Any]], Iterator]:
    """The first `count` rows (to type and size the columns) and an iterator over all of them."""
    iterator = iter(rows)
    first = [row for _, row in zip(range(count), iterator, strict=False)]
    return first, _chain(first, iterator)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


class _Line:
    """A file-like object that hands back what csv.writer writes (one row at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_rows(keys: Sequence[str | Column], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    first, rows = _peek(rows, 50)
    columns = _columns(keys, first)
    yield writer.writerow([camel_key(column.key) for column in columns])
    for row in rows:
        yield writer.writerow([csv_cell(column, row.get(column.key)) for column in columns])


def csv_response(keys: Sequence[str | Column], rows: Iterable[dict[str, Any]], *, name: str):
    response = StreamingHttpResponse(csv_rows(keys, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- XLSX -----------------------------------------------------------------------------------------
SAMPLE_ROWS = 500  # the rows a column's width is measured on (the first chunk)
NUMBER_FORMATS = {
    Kind.QUANTITY: "General",  # 12, 1.25 (no trailing zeros)
    Kind.NUMBER: "#,##0.00",
    Kind.PERCENT: '0.00"%"',
    Kind.INTEGER: "#,##0",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}
WIDTHS = {Kind.ID: 36, Kind.DATE: 10, Kind.DATETIME: 16, Kind.BOOL: 5}


def money_format(currency: str | None, places: int = 2) -> str:
    """`#,##0.00 "EUR"` (a unit cost's 4 places: `#,##0.00## "EUR"`)."""
    pattern = "#,##0.00" + "#" * max(0, places - 2)
    return f'{pattern} "{currency}"' if currency else pattern


def local(value: datetime, zone: ZoneInfo) -> datetime:
    """An instant as the company's wall-clock time, naive (what a spreadsheet holds)."""
    if timezone.is_aware(value):
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def _sheet_value(cell: Any, zone: ZoneInfo) -> Any:
    if isinstance(cell, str):
        return defused(cell)
    if isinstance(cell, datetime):
        return local(cell, zone)
    return cell


def _shown_width(column: Column, cell: Any) -> int:
    if cell is None:
        return 0
    if column.kind in WIDTHS and not isinstance(cell, str):
        return WIDTHS[column.kind]
    if isinstance(cell, Decimal) and column.kind is Kind.MONEY:
        return len(f"{cell:,.{column.places}f}") + 4  # + " EUR"
    if isinstance(cell, (Decimal, int)) and not isinstance(cell, bool):
        return len(f"{cell:,}")
    return max((len(line) for line in str(cell).splitlines()), default=0)


def _width(column: Column, cells: Iterable[Any]) -> float:
    widest = max([len(column.title) + 2, *(_shown_width(column, cell) for cell in cells)])
    return float(min(max(widest + 2, 8), 60))


class _SheetWriter:
    """Typed, formatted cells in a write-only sheet: styles are made once per (kind, currency)."""

    def __init__(self, sheet, columns: Sequence[Column], company: Company) -> None:
        self.sheet, self.columns, self.company = sheet, columns, company
        self.zone = ZoneInfo(company.time_zone)

    def number_format(self, column: Column, currency: str | None) -> str | None:
        if column.kind is Kind.MONEY:
            return money_format(currency or self.company.currency, column.places)
        return NUMBER_FORMATS.get(column.kind)

    def cell(self, column: Column, value: Any, currency: str | None = None):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, _sheet_value(value, self.zone))
        if value is not None and not isinstance(value, str):
            number_format = self.number_format(column, currency)
            if number_format:
                cell.number_format = number_format
        return cell

    def header(self, titles: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        bold = Font(bold=True)
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.sheet, title)
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)

    def row(self, row: Mapping[str, Any]) -> None:
        currency = row.get("currency") or None
        self.sheet.append([self.cell(c, typed(c, row.get(c.key)), currency) for c in self.columns])


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet"


class Totals:
    """Sums of some columns over the rows written, money per currency (never added across)."""

    def __init__(self, columns: Sequence[Column], keys: Sequence[str], currency: str | None):
        self.columns = [column for column in columns if column.key in keys]
        self.currency = currency
        self.sums: dict[tuple[str, str | None], Decimal] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        for column in self.columns:
            value = typed(column, row.get(column.key))
            if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
                currency = None
                if column.kind is Kind.MONEY:
                    currency = row.get("currency") or self.currency
                slot = (column.key, currency)
                self.sums[slot] = self.sums.get(slot, Decimal(0)) + value

    def summary(self) -> list[tuple[Column, Any, str | None]]:
        """(the column, its sum, the sum's currency), in column order."""
        out = []
        for column in self.columns:
            for (key, currency), total in self.sums.items():
                if key == column.key:
                    label = f"Sum of {column.title[:1].lower()}{column.title[1:]}"
                    if currency and currency != self.currency:
                        label += f" ({currency})"
                    out.append(
                        (Column(column.key, label, column.kind, column.places), total, currency)
                    )
        return out


SummaryItem = tuple[str | Column, Any] | tuple[str | Column, Any, str | None]


def _summary_columns(summary: Sequence[SummaryItem]) -> list[tuple[Column, Any, str | None]]:
    """Summary items as (a column titled for people, the value typed by it, its currency)."""
    out = []
    for item in summary:
        label, value = item[0], item[1]
        currency = item[2] if len(item) > 2 else None
        column = column_of(label, [{label: value}]) if isinstance(label, str) else label
        out.append((column, typed(column, value), currency))
    return out


def xlsx_response(
    keys: Sequence[str | Column],
    rows: Iterable[dict[str, Any]],
    *,
    name: str,
    summary: Sequence[SummaryItem] = (),
    title: str | None = None,
    currency: str | None = None,
    time_zone: str | None = None,
    totals: Sequence[str] = (),
):
    """The rows on the first sheet (titled, typed and formatted, see the module's docstring),
    the summary (filters, figures, the sums of the `totals` columns, the row count, currency,
    time zone and generation time) on a second, named "Summary"."""
    from openpyxl import Workbook

    company = _company(currency, time_zone)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title or title_of(name.replace("-", "_"))))
    first, rows = _peek(rows, SAMPLE_ROWS)
    columns = _columns(keys, first)
    writer = _SheetWriter(sheet, columns, company)
    for index, column in enumerate(columns, start=1):
        letter = _letter(index)
        cells = (typed(column, row.get(column.key)) for row in first)
        sheet.column_dimensions[letter].width = _width(column, cells)
    sheet.freeze_panes = "A2"
    writer.header([column.title for column in columns])
    summed = Totals(columns, totals, company.currency)
    count = 0
    for row in rows:
        writer.row(row)
        summed.add(row)
        count += 1
    if columns:
        sheet.auto_filter.ref = f"A1:{_letter(len(columns))}{count + 1}"
    about = book.create_sheet("Summary")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 24
    facts = _summary_columns(summary) + summed.summary()
    facts.append((Column("rows", "Rows", Kind.INTEGER), count, None))
    if company.currency and not any(column.key == "currency" for column, *_ in facts):
        facts.append((Column("currency", "Currency"), company.currency, None))
    facts.append((Column("time_zone", "Time zone"), company.time_zone, None))
    facts.append((Column("generated", "Generated", Kind.DATETIME), timezone.now(), None))
    labels = _SheetWriter(about, [], company)
    for column, value, row_currency in facts:
        about.append(
            [
                labels.cell(Column("label", ""), column.title),
                labels.cell(column, value, row_currency),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


# --- PDF ------------------------------------------------------------------------------------------
PDF_WIDTHS = {
    Kind.MONEY: 12,
    Kind.QUANTITY: 7,
    Kind.NUMBER: 8,
    Kind.PERCENT: 7,
    Kind.INTEGER: 6,
    Kind.DATE: 10,
    Kind.DATETIME: 16,
    Kind.BOOL: 4,
}
# How many characters (at 8.5 pt, with the cells' padding) a table may want: portrait up to 90,
# landscape up to 150, then 7 pt up to 200, beyond that 6 pt with narrower padding ("dense").
PORTRAIT_CHARACTERS, LANDSCAPE_CHARACTERS, SMALL_CHARACTERS = 90, 150, 200


def shown(column: Column, value: Any, *, currency: str | None, zone: ZoneInfo) -> str:
    """A cell as a person reads it: 1,234.50 (with the currency when it is not the table's),
    2026-11-20 10:00 in the company's time zone, Yes/No."""
    cell = typed(column, value)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "Yes" if cell else "No"
    if isinstance(cell, Decimal):
        if column.kind is Kind.MONEY:  # a unit cost's 4 places only where it has them
            places = min(column.places, max(2, -cell.normalize().as_tuple().exponent))
            text = f"{cell:,.{places}f}"
            return f"{text} {currency}" if currency else text
        if column.kind is Kind.PERCENT:
            return f"{cell:,.2f} %"
        if column.kind is Kind.QUANTITY:
            text = format(cell.normalize(), ",f")
            return "0" if text in ("-0", "0") else text
        return f"{cell:,}"
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, datetime):
        return local(cell, zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def _column_characters(column: Column, rows: Sequence[Mapping[str, Any]]) -> int:
    """How many characters wide a column wants to be (text capped: it wraps between words)."""
    longest_word = max((len(word) for word in column.title.split()), default=0)
    if column.kind in PDF_WIDTHS:
        return max(PDF_WIDTHS[column.kind], longest_word)
    longest = max((len(str(row.get(column.key) or "")) for row in rows[:200]), default=0)
    return max(min(longest, 28), longest_word, 4)


def pdf_response(
    keys: Sequence[str | Column],
    rows: Iterable[dict[str, Any]],
    *,
    name: str,
    title: str,
    company: str,
    summary: Sequence[SummaryItem] = (),
    currency: str | None = None,
    time_zone: str | None = None,
):
    """An A4 table with the company, the title, the summary and the generation time
    (WeasyPrint; every text escaped by the template, nothing fetched). UUID columns are left
    out (a list shows the names of what they point at); landscape and a smaller type when the
    table is wide; numbers right-aligned and never broken; text wraps between words."""
    from weasyprint import HTML

    facts = _company(currency, time_zone)
    zone = ZoneInfo(facts.time_zone)
    rows = list(rows)
    columns = [column for column in _columns(keys, rows) if column.kind is not Kind.ID]
    characters = sum(_column_characters(column, rows) + 2 for column in columns)
    landscape = characters > PORTRAIT_CHARACTERS
    font_size = 8.5 if characters <= LANDSCAPE_CHARACTERS else 7
    dense = characters > SMALL_CHARACTERS
    font_size = 6 if dense else font_size

    def style(column: Column) -> str:  # the cell's class in the template
        if column.kind in NUMERIC:
            return "num"
        return "when" if column.kind in (Kind.DATE, Kind.DATETIME, Kind.BOOL) else ""

    def cell(column: Column, row: Mapping[str, Any]) -> str:
        own = row.get("currency") or None  # money is written with its currency when not the
        currency = own if own and own != facts.currency else None  # company's (the summary's)
        return shown(column, row.get(column.key), currency=currency, zone=zone)

    html = render_to_string(
        "exports/table.html",
        {
            "title": title,
            "company": company,
            "generated_at": local(timezone.now(), zone),
            "time_zone": facts.time_zone,
            "currency": facts.currency,
            "landscape": landscape,
            "font_size": font_size,
            "dense": dense,
            "summary": [
                (column.title, shown(column, value, currency=cur, zone=zone))
                for column, value, cur in _summary_columns(summary)
            ],
            "headers": [(column.title, style(column)) for column in columns],
            "rows": [[(cell(column, row), style(column)) for column in columns] for row in rows],
        },
    )
    pdf = HTML(string=html, url_fetcher=refusing_fetcher()).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def refusing_fetcher():
    """WeasyPrint's URL fetcher for every document: nothing is fetched. A URL a company wrote
    (a logo, a stylesheet) must never make the server call into its own network; the document
    renders without it. WeasyPrint 70 wants a fetcher object (a plain function failed with a
    500 once a receipt showed a logo), so a URLFetcher whose fetch refuses everything."""
    from weasyprint.urls import URLFetcher  # WeasyPrint loads only when a PDF is made

    class RefusingFetcher(URLFetcher):
        def fetch(self, url: str, headers=None):
            raise ValueError(f"not fetched: {url[:60]}")

    return RefusingFetcher(fail_on_errors=False)


# --- lists as files -------------------------------------------------------------------------------
PDF_ROWS_MAX = 2000  # a PDF is for reading: beyond this, the CSV or XLSX
CHUNK = 500
NOT_FILTERS = frozenset({"format", "page", "limit"})
FILTER_KINDS = {"from": Kind.DATE, "to": Kind.DATE}


def export_format(request) -> str | None:
    """`?format=csv|xlsx|pdf` (None for json or absent); anything else is a 400."""
    from apps.core.errors import ValidationFailed

    output = request.query_params.get("format")
    if output in (None, "json"):
        return None
    if output not in FORMATS:
        raise ValidationFailed.for_field("format", "Must be one of: json, csv, xlsx, pdf.")
    return output


def file_requested(request) -> bool:
    """Whether the request asks for a file rather than JSON. A view that can answer one says so
    with an `export_requested(request)` method, which the company's plan gates (the `exports`
    feature, apps.tenants.api.permissions) before the view runs."""
    return request.query_params.get("format") in FILE_FORMATS


def field_column(name: str, field) -> Column | None:
    """A serializer field as a column, its kind from the field's class (a DecimalField renders
    "-24.78": money); None for what one cell cannot hold (nested objects, lists, a method's
    value)."""
    from rest_framework import serializers as f

    from apps.core.serializers import QuantityField

    if (
        getattr(field, "many", False)
        or hasattr(field, "fields")
        or field.write_only
        or isinstance(field, f.SerializerMethodField | f.ListField | f.DictField | f.JSONField)
    ):
        return None
    title, places = title_of(name), 2
    if isinstance(field, QuantityField):
        kind = Kind.QUANTITY
    elif isinstance(field, f.DecimalField):
        if name.endswith(PERCENT_NAMES):
            kind = Kind.PERCENT
        elif field.decimal_places == 3:  # the quantities of the sale lines
            kind = Kind.QUANTITY
        else:
            kind, places = Kind.MONEY, max(2, field.decimal_places or 2)
    elif isinstance(field, f.BooleanField):
        kind = Kind.BOOL
    elif isinstance(field, f.IntegerField):
        kind = Kind.INTEGER
    elif isinstance(field, f.DateTimeField):
        kind = Kind.DATETIME
    elif isinstance(field, f.DateField):
        kind = Kind.DATE
    elif isinstance(field, f.UUIDField | f.PrimaryKeyRelatedField):
        kind = Kind.ID
    else:
        kind = Kind.TEXT
    return Column(name, title, kind, places)


@dataclass(frozen=True)
class NameSource:
    """The names of what an id column points at (a store, a product, a user), read for a set of
    ids in one query: shown next to the id in XLSX and instead of it in a PDF."""

    id_key: str
    column: Column  # the name's column
    model: Any

    def lookup(self, ids: set[str]) -> dict[str, str]:
        # the base manager: a soft-deleted product still has its name on its old rows
        found = self.model._base_manager.filter(pk__in=ids).values_list("pk", "name")
        return {str(pk): name for pk, name in found}


def _has_name(model) -> bool:
    return any(field.name == "name" for field in model._meta.concrete_fields)


def foreign_model(model, source: str):
    """The model `source` (a serializer field's source: "store_id", "sale.store_id") is a
    foreign key to, or None."""
    from django.core.exceptions import FieldDoesNotExist

    try:
        for part in source.split("."):
            field = model._meta.get_field(part)  # "store_id": the foreign key `store`
            if not field.is_relation or field.many_to_many or field.one_to_many:
                return None
            model = field.related_model
    except FieldDoesNotExist:
        return None
    return model


def _named_rows(rows: Iterable[dict[str, Any]], sources: Sequence[NameSource]) -> Iterator[dict]:
    """The rows with their names, looked up a chunk of rows at a time: one query per kind of
    name per chunk, for the ids not seen before."""
    if not sources:
        yield from rows
        return
    names: dict[str, dict[str, str]] = {source.id_key: {} for source in sources}
    chunk: list[dict[str, Any]] = []

    def named(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for source in sources:
            known = names[source.id_key]
            ids = {str(row[source.id_key]) for row in chunk if row.get(source.id_key)}
            if ids - known.keys():
                known.update(source.lookup(ids - known.keys()))
            for row in chunk:
                value = row.get(source.id_key)
                row[source.column.key] = known.get(str(value)) if value else None
        return chunk

    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield from named(chunk)
            chunk = []
    if chunk:
        yield from named(chunk)


def _with_names(columns: Sequence[Column], sources: Sequence[NameSource]) -> list[Column]:
    by_id = {source.id_key: source.column for source in sources}
    out: list[Column] = []
    for column in columns:
        out.append(column)
        if column.key in by_id:
            out.append(by_id[column.key])
    return out


def _in_schema(
    tenant, rows: Iterator[dict[str, Any]], source: replica.ReadSource | None = None
) -> Iterator[dict[str, Any]]:
    """Rows read while a streamed response is sent: after the view has returned and the request
    middleware has set the public schema back, so the tenant's schema is set again around it,
    and the reads go where the view's read scope chose (`source`: the replica or the primary)."""
    from django.db import connection

    connection.set_tenant(tenant)
    try:
        with contextlib.ExitStack() as scope:
            if source is not None:
                scope.enter_context(replica.reads_from(source))
            yield from rows
    finally:
        connection.set_schema_to_public()


class ExportableListMixin(replica.ReplicaReadsMixin):
    """A list that also answers `?format=csv|xlsx|pdf`: every row the filters, search and sort
    select (no pagination), as the list's serializer renders them (scalar fields only, typed by
    their field classes). CSV is streamed in chunks; XLSX holds them in a write-only workbook;
    PDF stops at PDF_ROWS_MAX. XLSX and PDF show the names behind the ids: foreign keys of the
    list's model to a model with a `name`, and the ids a view names in `export_names`. A file
    is read in the replica scope (apps.core.replica: the replica when fit); the JSON list, which
    tills read too, stays on the primary."""

    export_name = "list"
    # Ids that are no foreign key but name something (a user's id): id key → (title, model).
    export_names: Mapping[str, tuple[str, Any]] = {}
    # Columns whose sums the Summary sheet and the PDF show (money per currency).
    export_totals: tuple[str, ...] = ()

    def get_content_negotiator(self):
        from apps.core.negotiation import OwnFormatNegotiation

        return OwnFormatNegotiation()

    def export_serializer(self, rows):
        return self.get_serializer(rows, many=True)

    def export_requested(self, request) -> bool:
        return getattr(self, "action", "list") == "list" and file_requested(request)

    def replica_reads_wanted(self, request) -> bool:
        return self.export_requested(request)

    def export_columns(self, serializer) -> list[Column]:
        columns = (field_column(name, field) for name, field in serializer.child.fields.items())
        return [column for column in columns if column is not None]

    def export_row(self, instance, data: dict[str, Any]) -> dict[str, Any]:
        """One row as exported: the serializer's data, with the row's currency (its own, else
        its sale's for a sale line) for its money cells."""
        if not data.get("currency"):
            sale = instance._state.fields_cache.get("sale")
            currency = getattr(instance, "currency", None) or getattr(sale, "currency", None)
            if currency:
                data["currency"] = currency
        return data

    def export_name_sources(self, model, serializer, columns) -> list[NameSource]:
        fields = serializer.child.fields
        taken = set(fields)
        sources = []
        for column in columns:
            if column.kind is not Kind.ID or column.key == "id":
                continue
            if column.key in self.export_names:
                title, target = self.export_names[column.key]
            else:
                source = fields[column.key].source if column.key in fields else None
                target = None if source is None else foreign_model(model, source)
                if target is None or not _has_name(target):
                    continue
                title = title_of(column.key.removesuffix("_id"))
            key = re.sub(r"\W+", "_", title.lower())
            if f"{key}_name" in taken:  # the list names it already (store_name)
                continue
            if key in taken:
                key = f"{key}_name"
            taken.add(key)
            sources.append(NameSource(column.key, Column(key, title), target))
        return sources

    def export_summary(self, request, sources: Sequence[NameSource]) -> list[SummaryItem]:
        """The filters the file was made with (an id by its name where the list names it)."""
        by_id = {source.id_key: source for source in sources}
        summary: list[SummaryItem] = []
        for key, value in request.query_params.items():
            if key in NOT_FILTERS or value == "":
                continue
            source = by_id.get(key)
            if source is not None:
                with contextlib.suppress(ValueError):  # not an id: the filter refused it
                    value = source.lookup({str(UUID(value))}).get(str(UUID(value)), value)
                summary.append((Column(key, source.column.title), value))
                continue
            summary.append((Column(key, title_of(key), FILTER_KINDS.get(key, Kind.TEXT)), value))
        return summary

    def list(self, request, *args, **kwargs):
        output = export_format(request)
        if output is None:
            return super().list(request, *args, **kwargs)
        from django.db import connection

        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.export_serializer([])
        columns = self.export_columns(serializer)

        def rows() -> Iterator[dict[str, Any]]:
            chunk: list = []
            for row in queryset.iterator(chunk_size=CHUNK):
                chunk.append(row)
                if len(chunk) == CHUNK:
                    data = self.export_serializer(chunk).data
                    yield from map(self.export_row, chunk, data)
                    chunk = []
            if chunk:
                yield from map(self.export_row, chunk, self.export_serializer(chunk).data)

        name = self.export_name
        if output == "csv":
            streamed = _in_schema(connection.tenant, rows(), self.read_source)
            return csv_response(columns, streamed, name=name)
        sources = self.export_name_sources(queryset.model, serializer, columns)
        named = _with_names(columns, sources)
        summary = self.export_summary(request, sources)
        title = title_of(name.replace("-", "_"))
        if output == "xlsx":
            return xlsx_response(
                named,
                _named_rows(rows(), sources),
                name=name,
                title=title,
                summary=summary,
                totals=self.export_totals,
            )
        limited = list(_named_rows(islice(rows(), PDF_ROWS_MAX + 1), sources))
        if len(limited) > PDF_ROWS_MAX:
            limited = limited[:PDF_ROWS_MAX]
            summary.append(
                (
                    Column("note", "Note"),
                    f"The first {PDF_ROWS_MAX:,} rows only: the CSV and XLSX files hold every row.",
                )
            )
        company = Company.current()
        summed = Totals(named, self.export_totals, company.currency)
        for row in limited:
            summed.add(row)
        summary += summed.summary()
        summary.append((Column("rows", "Rows", Kind.INTEGER), len(limited)))
        return pdf_response(
            named,
            limited,
            name=name,
            title=title,
            company=request.user.tenant.name,
            summary=summary,
            currency=company.currency,
            time_zone=company.time_zone,
        )
