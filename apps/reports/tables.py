"""Each report as one table for the exports (CSV, XLSX, PDF): the report's main list as rows
(the keys of its JSON rows) and its headline figures as a summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    title: str
    keys: tuple[str, ...]
    rows: list[dict[str, Any]]
    summary: list[tuple[str, Any]]


def _flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    from apps.core.renderers import camel_key

    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{camel_key(key)}.")
        elif not isinstance(value, list):
            out.append((f"{prefix}{camel_key(key)}", value))
    return out


def report_table(name: str, report: dict[str, Any], filters: dict[str, Any]) -> Table:
    """`name`: sales (rows: the series), profit (the series), stock (by location), cashier (the
    cashiers). The summary holds the filters and every scalar figure of the report."""
    if name == "sales":
        keys, rows, figures = ("period", "count", "net"), report["series"], report["totals"]
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
