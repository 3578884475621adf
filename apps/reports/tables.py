"""Each report as one table for the exports (CSV, XLSX, PDF): the report's main list as rows
(the keys of its JSON rows) and its headline figures as a summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.core.exports import Column, Kind, column_of, title_of
from apps.core.renderers import camel_key

# The kinds the figures' Python types do not tell (a Decimal is money unless said here, a period
# label is a date); by snake_case key, for the rows' keys and the summary's labels alike.
KINDS: dict[str, Kind] = {
    "period": Kind.DATE,
    "from": Kind.DATE,
    "to": Kind.DATE,
    "as_of": Kind.DATE,
    "quantity": Kind.QUANTITY,
    "items_per_sale": Kind.NUMBER,
    "store_id": Kind.ID,
}


@dataclass(frozen=True)
class Table:
    """A report as a file's table. Built with keys (str), it types them (`Column`s, see
    apps.core.exports): kinds from KINDS and `kinds`, else from the rows' values. The money of
    a report that states its currency (a `currency` figure, or `currency`) is written in it; of
    the others, in the company's."""

    title: str
    keys: tuple[str | Column, ...]
    rows: list[dict[str, Any]]
    summary: list[tuple[Any, ...]]
    currency: str | None = None
    kinds: Mapping[str, Kind] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kinds = {**KINDS, **self.kinds}
        currency = self.currency or next(
            (value for label, value, *_ in self.summary if label == "currency" and value), None
        )
        rows = self.rows
        if currency is not None:  # the rows' money in the report's currency
            rows = [{"currency": currency, **row} for row in rows]
        summary = []
        for label, value, *rest in self.summary:
            if isinstance(label, str):
                kind = column_of(_snake(label), [{_snake(label): value}], kinds).kind
                label = Column(label, title_of(label), kind)
            summary.append((label, value, rest[0] if rest else currency))
        object.__setattr__(self, "keys", tuple(column_of(k, rows, kinds) for k in self.keys))
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "summary", summary)
        object.__setattr__(self, "currency", currency)


def _snake(label: str) -> str:
    """A summary label (`costOfGoods`, `totals.base`) as the key KINDS is read with."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", label.rsplit(".", 1)[-1]).lower()


def _flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{camel_key(key)}.")
        elif not isinstance(value, list):
            out.append((f"{prefix}{camel_key(key)}", value))
    return out


TAX_KEYS = ("period", "rate", "sales_base", "sales_tax", "sales_gross", "returns_base",
            "returns_tax", "returns_gross", "net_base", "net_tax", "net_gross")  # fmt: skip


def _tax_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per rate, or per period and rate when grouped."""
    periods = report.get("periods")
    groups = (
        [(p["period"], p["rates"]) for p in periods]
        if periods is not None
        else [(None, report["rates"])]
    )
    return [
        {
            "period": period,
            "rate": rate["rate"],
            **{
                f"{side}_{figure}": rate[side][figure]
                for side in ("sales", "returns", "net")
                for figure in ("base", "tax", "gross")
            },
        }
        for period, rates in groups
        for rate in rates
    ]


def report_table(name: str, report: dict[str, Any], filters: dict[str, Any]) -> Table:
    """`name`: sales (rows: the series), profit (the series), stock (by location), cashier (the
    cashiers), tax (a row per rate, or per period and rate with `groupBy`). The summary holds the
    filters and every scalar figure of the report."""
    if name == "sales":
        keys = ("period", "count", "gross_sales", "discounts", "returns", "net_sales", "tax",
                "rounding", "total_collected", "net")  # fmt: skip
        rows, figures = report["series"], report["totals"]
    elif name == "tax":
        keys = TAX_KEYS if "periods" in report else TAX_KEYS[1:]
        rows = _tax_rows(report)
        figures = {"currency": report["currency"], "totals": report["totals"]}
    elif name == "profit":
        keys = ("period", "revenue", "cost_of_goods", "gross_profit")
        rows = report["series"]
        figures = {k: v for k, v in report.items() if k not in ("series", "by_store")}
    elif name == "stock":
        keys = ("store_id", "name", "quantity", "cost_value", "retail_value", "low_stock_count")
        rows, figures = report["by_location"], {"as_of": report["as_of"], **report["totals"]}
    else:
        keys = ("user_id", "name", "count", "total", "average_basket", "items_per_sale",
                "discounts", "voids", "returns", "cash_variance")  # fmt: skip
        rows, figures = report["cashiers"], {}
    summary = [(label, value) for label, value in _flat(filters) if value is not None]
    return Table(f"{name.title()} report", keys, rows, summary + _flat(figures))
