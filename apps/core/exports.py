"""Tables as files: CSV (streamed row by row), XLSX (typed cells) and PDF (a readable table).

A table is a header of wire keys (camelCase, as in the JSON) and rows of plain values. Text that
a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) is prefixed with `'`; numbers are never touched (a negative amount stays a number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core.renderers import camel_key

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FILE_FORMATS = ("csv", "xlsx", "pdf")
FORMATS = ("json", *FILE_FORMATS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_text(value: Any) -> str:
    """A value as CSV text: numbers as they are, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object that hands back what csv.writer writes (one row at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_rows(keys: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow([camel_key(key) for key in keys])
    for row in rows:
        yield writer.writerow([cell_text(row.get(key)) for key in keys])


def csv_response(keys: Sequence[str], rows: Iterable[dict[str, Any]], *, name: str):
    response = StreamingHttpResponse(csv_rows(keys, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, (Decimal, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return timezone.make_naive(value, timezone.UTC) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    if isinstance(value, UUID):
        return str(value)
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)  # series periods
        except ValueError:
            pass
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def xlsx_response(
    keys: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    name: str,
    summary: Sequence[tuple[str, Any]] = (),
):
    """The rows on the first sheet (numbers as numbers, dates as dates, UTC times), the summary
    (filters, totals, generation time) on a second."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    sheet.append([camel_key(key) for key in keys])
    for row in rows:
        sheet.append([_xlsx_value(row.get(key)) for key in keys])
    about = book.create_sheet("Summary")
    for label, value in summary:
        about.append([label, _xlsx_value(value)])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def pdf_response(
    keys: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    name: str,
    title: str,
    company: str,
    summary: Sequence[tuple[str, Any]] = (),
):
    """A landscape A4 table with the company, the title, the summary and the generation time
    (WeasyPrint; every text escaped by the template, nothing fetched)."""
    from weasyprint import HTML

    html = render_to_string(
        "exports/table.html",
        {
            "title": title,
            "company": company,
            "generated_at": timezone.now(),
            "summary": [(label, cell_text(value)) for label, value in summary],
            "headers": [camel_key(key) for key in keys],
            "rows": [[cell_text(row.get(key)) for key in keys] for row in rows],
        },
    )
    pdf = HTML(string=html, url_fetcher=refuse_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def refuse_fetch(url: str, *args, **kwargs):
    """WeasyPrint's URL fetcher for every document: nothing is fetched. A URL a company wrote
    (a logo, a stylesheet) must never make the server call into its own network."""
    raise ValueError(f"not fetched: {url[:60]}")


# --- lists as files -------------------------------------------------------------------------------
PDF_ROWS_MAX = 2000  # a PDF is for reading: beyond this, the CSV or XLSX
CHUNK = 500


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


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not isinstance(v, (dict, list))}


def _in_schema(tenant, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows read while a streamed response is sent: after the view has returned and the request
    middleware has set the public schema back, so the tenant's schema is set again around it."""
    from django.db import connection

    connection.set_tenant(tenant)
    try:
        yield from rows
    finally:
        connection.set_schema_to_public()


class ExportableListMixin:
    """A list that also answers `?format=csv|xlsx|pdf`: every row the filters, search and sort
    select (no pagination), as the list's serializer renders them (scalar fields only). CSV is
    streamed in chunks; XLSX holds them in a write-only workbook; PDF stops at PDF_ROWS_MAX."""

    export_name = "list"

    def get_content_negotiator(self):
        from apps.core.negotiation import OwnFormatNegotiation

        return OwnFormatNegotiation()

    def export_serializer(self, rows):
        return self.get_serializer(rows, many=True)

    def export_requested(self, request) -> bool:
        return getattr(self, "action", "list") == "list" and file_requested(request)

    def list(self, request, *args, **kwargs):
        output = export_format(request)
        if output is None:
            return super().list(request, *args, **kwargs)
        from django.db import connection

        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.export_serializer([])
        keys = [
            name
            for name, field in serializer.child.fields.items()
            if not getattr(field, "many", False) and not hasattr(field, "fields")
            and field.__class__.__name__ not in ("ListField", "DictField", "JSONField")
        ]  # fmt: skip

        def rows() -> Iterator[dict[str, Any]]:
            chunk: list = []
            for row in queryset.iterator(chunk_size=CHUNK):
                chunk.append(row)
                if len(chunk) == CHUNK:
                    yield from (_scalars(d) for d in self.export_serializer(chunk).data)
                    chunk = []
            if chunk:
                yield from (_scalars(d) for d in self.export_serializer(chunk).data)

        name = self.export_name
        if output == "csv":
            return csv_response(keys, _in_schema(connection.tenant, rows()), name=name)
        if output == "xlsx":
            return xlsx_response(keys, rows(), name=name)
        limited = [row for _, row in zip(range(PDF_ROWS_MAX), rows(), strict=False)]
        return pdf_response(
            keys, limited, name=name, title=name.title(), company=request.user.tenant.name,
            summary=[("rows", len(limited))],
        )  # fmt: skip
