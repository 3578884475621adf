"""A receipt's data (apps.receipts.selectors.receipt_data) laid out for people: one `view` of
labelled, formatted rows, rendered as HTML (a Django template, autoescaped), PDF (WeasyPrint, from
that HTML) and fixed-width text for a receipt printer. Every form is drawn from the same view, so
they cannot show different totals."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, get_currency_precision
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from apps.core.exports import refusing_fetcher
from apps.core.security import csp_hash, csp_policy
from apps.receipts.selectors import Document
from apps.tenants import receipt_layout as layout

METHODS = {
    "CASH": "Cash",
    "CARD": "Card",
    "MOBILE": "Mobile",
    "BANK_TRANSFER": "Bank transfer",
    "STORE_CREDIT": "Store credit",
}


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    strong: bool = False
    key: str = ""  # a totals row's figure (the HTML's data-total), for pages and tests to find


@dataclass
class Line:
    name: str
    detail: str  # "2 x 1.50", or the quantity alone on a gift receipt
    amount: str  # "" on a gift receipt
    notes: list[str] = field(default_factory=list)


class Formatter:
    """Numbers and times in the template's locale; money with the currency's places."""

    def __init__(self, *, locale: str, currency: str, time_zone: str) -> None:
        self.locale = Locale.parse(locale)
        places = get_currency_precision(currency)
        self.money_format = "#,##0." + "0" * places if places else "#,##0"
        self.zone = ZoneInfo(time_zone or "UTC")

    def money(self, value: Decimal | None) -> str:
        return "" if value is None else format_decimal(value, self.money_format, self.locale)

    def number(self, value: Decimal) -> str:
        return format_decimal(value, "#,##0.###", self.locale)

    def when(self, value) -> str:
        return "" if value is None else format_datetime(value, "short", self.zone, self.locale)


def _lines(*texts: str) -> list[str]:
    return [line.strip() for text in texts if text for line in text.splitlines() if line.strip()]


def _items(data: dict, f: Formatter) -> list[Line]:
    """Each line's amount is quantity x unit price less its discounts, in the prices' own mode
    (without the tax the totals add when prices exclude it), so the lines add up to
    subtotal - discounts as printed below them."""
    lines = []
    for item in data["items"]:
        if data["gift"]:
            lines.append(Line(item["name"], f"x {f.number(item['quantity'])}", ""))
            continue
        notes = []
        if item["discount"]:
            notes.append(f"Discount -{f.money(item['discount'])}")
        if data["document"] == Document.RETURN and not item.get("restock", True):
            notes.append("Not restocked")
        amount = item["total"] if data["prices_include_tax"] else item["total"] - item["tax"]
        lines.append(
            Line(
                item["name"],
                f"{f.number(item['quantity'])} x {f.money(item['unit_price'])}",
                f.money(amount),
                notes,
            )
        )
    return lines


def _totals(data: dict, f: Formatter) -> list[Row]:
    """The stored figures, in the order their identity adds them up: prices excluding tax,
    subtotal - discounts + tax + rounding = total; prices including tax, subtotal - discounts +
    rounding = total, the tax it contains shown after the total, per rate, as "included"."""
    totals = data["totals"]
    if totals is None:
        return []
    rows = [Row("Subtotal", f.money(totals["subtotal"]), key="subtotal")]
    if totals["discount_total"]:
        rows.append(Row("Discounts", f.money(-totals["discount_total"]), key="discounts"))
    if not data["prices_include_tax"]:
        rows.append(Row("Tax", f.money(totals["tax_total"]), key="tax"))
    if totals["rounding_adjustment"]:
        rows.append(Row("Rounding", f.money(totals["rounding_adjustment"]), key="rounding"))
    label = {Document.SALE: "TOTAL", Document.RETURN: "REFUND", Document.VOID: "VOIDED"}
    rows.append(
        Row(
            f"{label[data['document']]} {data['currency']}",
            f.money(totals["total"]),
            strong=True,
            key="total",
        )
    )
    if data["prices_include_tax"]:
        by_rate: dict[Decimal, Decimal] = {}
        for item in data["items"]:
            by_rate[item["tax_rate"]] = by_rate.get(item["tax_rate"], Decimal(0)) + item["tax"]
        rows += [
            Row(f"Tax included {f.number(rate)}%", f.money(tax), key="tax-included")
            for rate, tax in sorted(by_rate.items())
            if tax
        ]
    return rows


def _after_payments(data: dict, f: Formatter) -> list[Row]:
    if data["gift"]:
        return []
    rows = []
    if data["change_due"]:
        rows.append(Row("Change", f.money(data["change_due"])))
    if data["due_amount"]:
        label = "Taken off the account" if data["document"] == Document.RETURN else "On account"
        rows.append(Row(label, f.money(data["due_amount"])))
    loyalty = data["loyalty"]
    if loyalty:
        for label, key in (
            ("Points earned", "earned"),
            ("Points redeemed", "redeemed"),
            ("Points balance", "balance"),
        ):
            if loyalty[key] or key == "balance":
                rows.append(Row(label, str(loyalty[key])))
    return rows


def receipt_view(data: dict) -> dict[str, Any]:
    """The data as the rows a person reads (formatted in the receipt's locale)."""
    f = Formatter(locale=data["locale"], currency=data["currency"], time_zone=data["time_zone"])
    company, store = data["company"], data["store"]
    meta = [Row("No.", data["number"])]
    if data["document"] != Document.SALE:
        meta.append(Row("Sale", data["sale_number"]))
    meta.append(Row("Date", f.when(data["issued_at"])))
    if data["cashier"]:
        meta.append(Row("Cashier", data["cashier"]["name"]))
    if data["customer"]:
        meta.append(Row("Customer", f"{data['customer']['name']} ({data['customer']['code']})"))
    if data["reason"]:
        meta.append(Row("Reason", data["reason"]))
    qr_svg = None
    if data["qr_payload"]:
        import segno

        qr_svg = mark_safe(  # noqa: S308 - segno's own SVG of the sale number, no user markup
            segno.make(data["qr_payload"], error="m").svg_inline(border=2, omitsize=True)
        )
    paper_mm, columns = layout.PAPERS[data["paper"]]
    return {
        "title": data["title"].upper(),
        "copy": data["copy"],
        "company_name": company["name"],
        "company_lines": _lines(
            company["legal_name"] if company["legal_name"] != company["name"] else "",
            company["address"],
            company["phone"],
            f"Tax ID {company['tax_id']}" if company["tax_id"] else "",
        ),
        "logo_url": company["logo_url"],
        "header_lines": _lines(data["header"]),
        "store_lines": _lines(
            f"{store['name']} ({store['code']})",
            store["address"],
            store["phone"],
            store["receipt_header"],
        ),
        "meta": meta,
        "items": _items(data, f),
        "totals": _totals(data, f),
        "tax_rows": [
            {
                "rate": f"{f.number(row['rate'])}%",
                "base": f.money(row["base"]),
                "tax": f.money(row["tax"]),
            }
            for row in data["tax_summary"]
        ],
        "payments": [
            Row(METHODS.get(p["method"], p["method"]), f.money(p["amount"]))
            for p in data["payments"]
        ],
        "after": _after_payments(data, f),
        "return_policy_lines": _lines(data["return_policy"] or ""),
        "footer_lines": _lines(data["footer"]),
        "qr_svg": qr_svg,
        "qr_payload": data["qr_payload"],
        "paper": data["paper"],
        "paper_mm": paper_mm,
        "columns": columns,
    }


# --- HTML and PDF ---------------------------------------------------------------------------------
def receipt_html(view: dict) -> str:
    """The receipt alone (an <article> with its own styles): for the JSON's `html`, e-mails and
    pages that embed it."""
    return render_to_string("receipts/receipt.html", {"r": view})


# The preview's one script (no inline handler: the page's CSP allows this text by its hash).
PRINT_SCRIPT = (
    'document.getElementById("print").addEventListener("click", function () { window.print(); });'
)
_PRINT_SCRIPT_SAFE = mark_safe(PRINT_SCRIPT)  # noqa: S308 - this module's constant, no input


def receipt_document_html(view: dict, *, preview: bool = False, nonce: str | None = None) -> str:
    """A whole HTML page of the receipt; `preview` adds the print button. `nonce` marks its
    style elements for the page's Content-Security-Policy (`receipt_page_policy`)."""
    return render_to_string(
        "receipts/page.html",
        {"r": view, "preview": preview, "nonce": nonce, "print_script": _PRINT_SCRIPT_SAFE},
    )


_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def receipt_page_policy(view: dict, *, preview: bool, nonce: str) -> str:
    """The Content-Security-Policy of a receipt page: nothing loads but the company's logo (its
    own origin); its styles by the response's nonce; the preview's print script by its hash; no
    frame, form or base URL."""
    images = ["'self'"]
    if view.get("logo_url"):
        parts = urlsplit(view["logo_url"])
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if _ORIGIN.fullmatch(origin):
            images.append(origin)
    directives = {
        "default-src": ["'none'"],
        "style-src": [f"'nonce-{nonce}'"],
        "img-src": images,
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    if preview:
        directives["script-src"] = [csp_hash(PRINT_SCRIPT)]
    return csp_policy(directives)


def receipt_pdf(view: dict) -> bytes:
    """The page as PDF: A4 pages for A4, else one roll of the paper's width and the receipt's
    own length (laid out once on a long page to measure it)."""
    from weasyprint import CSS, HTML

    html = HTML(string=receipt_document_html(view), url_fetcher=refusing_fetcher())
    if view["paper"] == "A4":
        return html.write_pdf(stylesheets=[CSS(string="@page { size: A4; margin: 12mm }")])
    width = view["paper_mm"]
    long_page = CSS(string=f"@page {{ size: {width}mm 3000mm; margin: 0 }}")
    page = html.render(stylesheets=[long_page]).pages[0]
    root = page._page_box.children[0]  # the <html> box, laid out
    height_px = root.margin_height()
    height_mm = int(height_px * 25.4 / 96) + 4
    exact = CSS(string=f"@page {{ size: {width}mm {height_mm}mm; margin: 0 }}")
    return html.write_pdf(stylesheets=[exact])


# --- fixed-width text -----------------------------------------------------------------------------
def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _center(text: str, width: int) -> list[str]:
    return [line.center(width).rstrip() for line in _wrap(text, width)]


def _row(label: str, value: str, width: int, indent: int = 0) -> list[str]:
    """`label ....... value`, the value right-aligned; a label too long for the value's line is
    wrapped above it."""
    pad = " " * indent
    if len(pad) + len(label) + 1 + len(value) <= width:
        return [pad + label + value.rjust(width - len(pad) - len(label))]
    lines = [pad + part for part in _wrap(label, width - indent)] if label else []
    return [*lines, *(part.rjust(width) for part in _wrap(value, width))]


def _table(rows: list[dict], width: int) -> list[str]:
    column = (width - 8) // 2
    out = ["Rate".ljust(width - 2 * column) + "Base".rjust(column) + "Tax".rjust(column)]
    for row in rows:
        if (
            len(row["rate"]) < width - 2 * column
            and max(len(row["base"]), len(row["tax"])) < column
        ):
            out.append(
                row["rate"].ljust(width - 2 * column)
                + row["base"].rjust(column)
                + row["tax"].rjust(column)
            )
        else:
            out += [*_row(row["rate"], "", width), *_row("  Base", row["base"], width),
                    *_row("  Tax", row["tax"], width)]  # fmt: skip
    return out


def receipt_text(view: dict, *, columns: int | None = None) -> str:
    """Lines of at most `columns` characters (the paper's: 32 at 58 mm, 48 at 80 mm), ready
    for an ESC/POS printer's text mode."""
    width = columns or view["columns"]
    rule = "-" * width
    out: list[str] = []
    for line in [view["company_name"], *view["company_lines"]]:
        out += _center(line, width)
    for line in [*view["header_lines"], *view["store_lines"]]:
        out += _center(line, width)
    out.append(rule)
    out += _center(view["title"], width)
    if view["copy"]:
        out += _center("*** COPY ***", width)
    for row in view["meta"]:
        out += _row(f"{row.label}: ", row.value, width)
    out.append(rule)
    for item in view["items"]:
        out += _wrap(item.name, width)
        out += _row(item.detail, item.amount, width, indent=2)
        for note in item.notes:
            out += _wrap("  " + note, width)
    if view["totals"]:
        out.append(rule)
        for row in view["totals"]:
            out += _row(row.label, row.value, width)
    if view["tax_rows"]:
        out.append(rule)
        out += _table(view["tax_rows"], width)
    if view["payments"] or view["after"]:
        out.append(rule)
        for row in [*view["payments"], *view["after"]]:
            out += _row(row.label, row.value, width)
    if view["return_policy_lines"]:
        out.append(rule)
        for line in view["return_policy_lines"]:
            out += _wrap(line, width)
    if view["footer_lines"]:
        out.append(rule)
        for line in view["footer_lines"]:
            out += _center(line, width)
    if view["qr_payload"]:
        out += _center(view["qr_payload"], width)
    return "\n".join(out) + "\n"
