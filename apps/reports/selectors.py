"""The reports: aggregates computed in PostgreSQL over what the sales, returns, payments,
shifts, expenses and the stock ledger stored — never over prices recomputed now.

Definitions (the README's design notes say the same):
- a sale counts in the period it was made, unless it is voided; a void counts (as `voids`) in the
  period it was voided; a return (its refund) in the period it was made;
- the sales figures (gross sales, discounts, returns, net sales, tax, rounding, total collected)
  are defined where they are computed, below; total collected (also `net`) is what the period's
  sales took (tax and rounding included) minus the period's refunds — the dashboard's sales total;
- revenue (profit) is the sales report's net sales: lines' totals less their tax, less the
  returned lines' refunds less the tax they give back; cost of goods is the unit cost stored on
  each sale line;
- the tax report splits the same amounts by tax rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    Func,
    OuterRef,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek

from apps.catalog.models import Category, Product, ProductVariant
from apps.core.db import qualified_table
from apps.core.filters import day_and_month_start
from apps.core.money import cents, money_total_field
from apps.core.replica import read_connection
from apps.customers.models import Customer
from apps.expenses.models import Expense
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.selectors import open_transfer_count, stock_level_list, stock_totals
from apps.pos.models import Shift
from apps.purchasing.models import Supplier
from apps.sales.models import Payment, Sale, SaleItem, SaleReturn, SaleReturnItem, SaleStatus
from apps.stores.models import Store, StoreKind
from apps.tenants.selectors import tenant_settings_cached
from apps.users.models import User

ZERO = Decimal("0.00")
MONEY = money_total_field()  # an expression type (no cast in SQL)
PRECISE = DecimalField(max_digits=20, decimal_places=6)
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class Period:
    """A report's filters: UTC bounds (None: open), the company's time zone (day boundaries and
    series periods), a store or all, and the series' step."""

    start: datetime | None
    end: datetime | None
    time_zone: str
    store_id: UUID | None = None
    group_by: str = "day"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or "UTC")

    def of(self, queryset: QuerySet, field: str = "created_at", store: str = "store_id"):
        if self.start is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.start})
        if self.end is not None:
            queryset = queryset.filter(**{f"{field}__lt": self.end})
        if self.store_id is not None:
            queryset = queryset.filter(**{store: self.store_id})
        return queryset

    def bucket(self, field: str = "created_at"):
        return TRUNC[self.group_by](field, tzinfo=self.zone)

    def dates(self) -> tuple[date | None, date | None]:
        """The company-calendar days the bounds cover (for rows dated by day: expenses): from
        the first day touched, up to (excluded) the day after the last one touched."""
        first = self.start.astimezone(self.zone).date() if self.start else None
        last = None
        if self.end is not None:
            local = self.end.astimezone(self.zone)
            last = local.date()
            if local.time() != datetime.min.time():
                last = date.fromordinal(last.toordinal() + 1)
        return first, last


def _sum(expression) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _label(value) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)


def _completed_sales(period: Period) -> QuerySet[Sale]:
    return period.of(Sale.objects.exclude(status=SaleStatus.VOIDED))


# --- sales --------------------------------------------------------------------------------------
# The sales report's words (the README's design notes have the table). Each is a sum of stored
# amounts WITHOUT tax, whichever pricing mode each sale was made in (a sale's subtotal and
# discounts hold tax when its prices include it, so they are not summed as such):
# - gross sales and discounts: the sales' `untaxed_gross` and `untaxed_discounts`, computed once
#   by the checkout (apps.sales.pricing.CartTotals has the definitions);
# - returns: the returned lines' refunds less the tax they give back (`_RETURNED_TAX`);
# - net sales = gross sales - discounts - returns; tax = the lines' tax - the returns' tax;
# - rounding = the sales' cash rounding - the rounding given back by refunds (a refund's total
#   beyond its lines; also any points value a refund withheld);
# - total collected = the sales' totals - the refunds' totals = net sales + tax + rounding.
_LINE_NET = F("line_total") - F("tax_amount")  # what a line took, without tax


def _sales_parts(period: Period, series: bool) -> dict[str, dict[str, Decimal]]:
    """The stored amounts the sales figures are made of, per series bucket (`series`) or as one
    (key ""): three passes — sales, returned lines, returns — whatever the period. A sale
    stores its gross and discounts without tax (computed by the checkout: pricing.CartTotals),
    so a year's report reads
    its sales, not every line (1.0 s of the 1.7 s a year of 1,000,000 lines took)."""
    parts: dict[str, dict[str, Decimal]] = {}
    sources = (
        (
            _completed_sales(period),
            "created_at",
            {
                "count": Count("id"),
                "taken": _sum("total"),
                "rounding": _sum("rounding_adjustment"),
                "gross_sales": _sum("untaxed_gross"),
                "discounts": _sum("untaxed_discounts"),
                "sold_net": _sum(F("total") - F("rounding_adjustment") - F("tax_total")),
                "sold_tax": _sum("tax_total"),
            },
        ),
        (
            _returned_lines(period),
            "sale_return__created_at",
            {"returned_lines": _sum("refund_amount"), "returned_tax": _sum(_RETURNED_TAX)},
        ),
        (period.of(SaleReturn.objects), "created_at", {"refunds": _sum("refund_total")}),
    )
    for queryset, time, sums in sources:
        if series:
            rows = [
                (_label(row.pop("bucket")), row)
                for row in queryset.annotate(bucket=period.bucket(time))
                .values("bucket")
                .annotate(**sums)
                .order_by()
            ]
        else:
            rows = [("", queryset.aggregate(**sums))]
        for key, row in rows:
            parts.setdefault(key, {}).update(row)
    return parts


def _sales_figures(part: dict[str, Decimal]) -> dict[str, Any]:
    """One bucket's figures from its parts (a part the bucket lacks is zero)."""
    value = lambda name: cents(part.get(name) or ZERO)  # noqa: E731
    returns = value("returned_lines") - value("returned_tax")
    refunds = value("refunds")
    return {
        "count": part.get("count") or 0,
        "gross_sales": value("gross_sales"),
        "discounts": value("discounts"),
        "returns": returns,
        "net_sales": value("sold_net") - returns,
        "tax": value("sold_tax") - value("returned_tax"),
        "rounding": value("rounding") - (refunds - value("returned_lines")),
        "total_collected": value("taken") - refunds,
    }


FIGURES = ("gross_sales", "discounts", "returns", "net_sales", "tax", "rounding", "total_collected")


def _with_old_names(figures: dict[str, Any]) -> dict[str, Any]:
    """The keys the report had before its figures got accounting names, kept for the clients
    that read them: `gross` = gross sales, `net` = total collected (the dashboard's sales total)."""
    return {**figures, "gross": figures["gross_sales"], "net": figures["total_collected"]}


def _totals(figures: dict[str, Any], period: Period) -> dict[str, Any]:
    voids = period.of(Sale.objects.filter(status=SaleStatus.VOIDED), field="voided_at")
    count, collected = figures["count"], figures["total_collected"]
    return {
        **_with_old_names(figures),
        "voids": voids.aggregate(total=_sum("total"))["total"],
        "average_basket": cents(collected / count) if count else ZERO,  # net of the refunds
    }


def sales_totals(*, period: Period) -> dict[str, Any]:
    """The sales report's totals (also the dashboards' and store stats' sales figures)."""
    parts = _sales_parts(period, series=False)[""]
    return _totals(_sales_figures(parts), period)


def payments_by_method(*, period: Period) -> list[dict[str, Any]]:
    """Every payment row of the period by method (change, refunds and voids negative)."""
    methods = (
        period.of(Payment.objects)
        .values("method")
        .annotate(total=_sum("amount"))
        .order_by("method")
    )
    return [{"method": m["method"], "total": m["total"]} for m in methods]


def sales_report(*, period: Period) -> dict[str, Any]:
    """The totals are the series' sums (every figure is a sum of cents), from the same passes."""
    series = [
        {"period": key, **_with_old_names(_sales_figures(part))}
        for key, part in sorted(_sales_parts(period, series=True).items())
    ]
    summed: dict[str, Any] = {"count": sum(point["count"] for point in series)}
    for name in FIGURES:
        summed[name] = sum((point[name] for point in series), ZERO)
    return {
        "totals": _totals(summed, period),
        "by_payment_method": payments_by_method(period=period),
        "series": series,
    }


# --- profit -------------------------------------------------------------------------------------
def counted_lines() -> QuerySet[SaleItem]:
    """The lines of every sale that is not voided. Filtered on the line's own time and store,
    and the (few) voided sales left out by an anti-join: no join of every line to its sale."""
    voided = Sale.objects.filter(pk=OuterRef("sale_id"), status=SaleStatus.VOIDED)
    return SaleItem.objects.filter(~Exists(voided))


def _sold_lines(period: Period) -> QuerySet[SaleItem]:
    return period.of(counted_lines(), field="sold_at")


def _returned_lines(period: Period) -> QuerySet[SaleReturnItem]:
    returned = SaleReturnItem.objects.all()
    return period.of(returned, field="sale_return__created_at", store="sale_return__store_id")


# The tax a returned line gives back: stored on it by the return (the sold line's tax prorated
# like its refund, apps.sales.pricing.line_refund_tax), so the returns of a whole line give back
# exactly its tax and the return's receipt shows the same cents.
_RETURNED_TAX = F("tax_amount")


def _precise_sum(expression) -> Coalesce:
    return Coalesce(Sum(expression, output_field=PRECISE), Value(Decimal(0)), output_field=PRECISE)


def _profit_parts(period: Period, *group: str) -> dict[tuple, dict[str, Decimal]]:
    """Revenue and (unrounded) cost of goods per `group` key (`period`, `store`, or none): the
    sold lines' minus the returned lines'."""
    parts: dict[tuple, dict[str, Decimal]] = {}
    sources = (
        (
            _sold_lines(period),
            "sold_at",
            "store_id",
            F("line_total") - F("tax_amount"),
            F("quantity") * F("unit_cost"),
            1,
        ),
        (
            _returned_lines(period),
            "sale_return__created_at",
            "sale_return__store_id",
            F("refund_amount") - _RETURNED_TAX,
            F("quantity") * F("sale_item__unit_cost"),
            -1,
        ),
    )
    for lines, time, store, revenue, cost, sign in sources:
        sums = {"revenue": _sum(revenue), "cost": _precise_sum(cost)}
        if not group:
            rows = [lines.aggregate(**sums)]
        else:
            keys = {"by_period": period.bucket(time), "by_store": F(store)}
            named = [f"by_{g}" for g in group]  # (`store` is a field of the line)
            rows = lines.annotate(**{g: keys[g] for g in named}).values(*named).annotate(**sums)
        for row in rows:
            part = parts.setdefault(
                tuple(row[f"by_{g}"] for g in group), {"revenue": ZERO, "cost": Decimal(0)}
            )
            part["revenue"] += sign * row["revenue"]
            part["cost"] += sign * row["cost"]
    return parts


def _expenses(period: Period) -> QuerySet[Expense]:
    first, last = period.dates()
    expenses = Expense.objects.alive()
    if first is not None:
        expenses = expenses.filter(date__gte=first)
    if last is not None:
        expenses = expenses.filter(date__lt=last)
    if period.store_id is not None:
        expenses = expenses.filter(store_id=period.store_id)
    return expenses


def _margin(revenue: Decimal, profit: Decimal) -> Decimal | None:
    return cents(profit * 100 / revenue) if revenue else None


def profit_report(*, period: Period) -> dict[str, Any]:
    # one pass over the lines, by store and period; the totals, stores and series add it up
    parts = _profit_parts(period, "store", "period")

    def added(keep) -> dict[Any, dict[str, Decimal]]:
        sums: dict[Any, dict[str, Decimal]] = {}
        for (store_id, bucket), part in parts.items():
            total = sums.setdefault(keep(store_id, bucket), {"revenue": ZERO, "cost": Decimal(0)})
            total["revenue"] += part["revenue"]
            total["cost"] += part["cost"]
        return sums

    total = added(lambda store_id, bucket: ()).get((), {"revenue": ZERO, "cost": Decimal(0)})
    revenue, cost = total["revenue"], cents(total["cost"])
    expenses = _expenses(period)
    by_category = list(
        expenses.values("category_id", name=F("category__name"))
        .annotate(total=_sum("amount"))
        .order_by("name", "category_id")
    )
    expense_total = sum((row["total"] for row in by_category), ZERO)
    per_store = added(lambda store_id, bucket: (store_id,))
    store_expenses = {
        row["store_id"]: row["total"]
        for row in expenses.values("store_id").annotate(total=_sum("amount"))
    }
    store_ids = set(k[0] for k in per_store) | {k for k in store_expenses if k is not None}
    names = dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))
    by_store = []
    for store_id in sorted(store_ids, key=lambda pk: (names.get(pk, ""), str(pk))):
        part = per_store.get((store_id,), {"revenue": ZERO, "cost": Decimal(0)})
        store_cost = cents(part["cost"])
        gross = part["revenue"] - store_cost
        by_store.append(
            {
                "store_id": store_id,
                "name": names.get(store_id, ""),
                "revenue": part["revenue"],
                "cost_of_goods": store_cost,
                "gross_profit": gross,
                "expenses": store_expenses.get(store_id, ZERO),
            }
        )
    series = []
    for (label,), part in sorted(
        ((_label(k[0]),), v) for k, v in added(lambda store_id, bucket: (bucket,)).items()
    ):
        series_cost = cents(part["cost"])
        series.append(
            {
                "period": label,
                "revenue": part["revenue"],
                "cost_of_goods": series_cost,
                "gross_profit": part["revenue"] - series_cost,
            }
        )
    gross_profit = revenue - cost
    return {
        "revenue": revenue,
        "cost_of_goods": cost,
        "gross_profit": gross_profit,
        "margin": _margin(revenue, gross_profit),
        "expenses": {"total": expense_total, "by_category": by_category},
        "net_profit": gross_profit - expense_total,
        "by_store": by_store,
        "series": series,
    }


# --- tax ----------------------------------------------------------------------------------------
def _tax_figures(base: Decimal = ZERO, tax: Decimal = ZERO) -> dict[str, Decimal]:
    return {"base": base, "tax": tax, "gross": base + tax}


def _tax_rates(found: dict[Decimal, dict[str, tuple[Decimal, Decimal]]]) -> dict[str, Any]:
    """Per rate (lowest first) the sales', the returns' and the net base, tax and gross; the
    totals are the rates' net."""
    rates = []
    for rate in sorted(found):
        sales = _tax_figures(*found[rate].get("sales", (ZERO, ZERO)))
        returns = _tax_figures(*found[rate].get("returns", (ZERO, ZERO)))
        net = _tax_figures(sales["base"] - returns["base"], sales["tax"] - returns["tax"])
        rates.append({"rate": rate, "sales": sales, "returns": returns, "net": net})
    base, tax = (sum((r["net"][name] for r in rates), ZERO) for name in ("base", "tax"))
    return {"rates": rates, "totals": _tax_figures(base, tax)}


def tax_report(*, period: Period, currency: str, series: bool) -> dict[str, Any]:
    """The report a VAT return is filled from: per tax rate, the taxable base (without tax), the
    tax and the gross (with it) of the period's sales (voids excluded; the stored line amounts,
    after discounts) and of its returns (refunds split as `_RETURNED_TAX` says), and their
    difference; in `currency` only (documents keep the currency they were made in); with
    `series`, the same per day or month of the company's calendar (`periods`)."""
    found: dict[str, dict[Decimal, dict[str, tuple[Decimal, Decimal]]]] = {}
    sources = (
        (
            "sales",
            _sold_lines(period).filter(sale__currency=currency),
            "sold_at",
            "tax_rate",
            _LINE_NET,
            F("tax_amount"),
        ),
        (
            "returns",
            _returned_lines(period).filter(sale_return__currency=currency),
            "sale_return__created_at",
            "sale_item__tax_rate",
            F("refund_amount") - _RETURNED_TAX,
            _RETURNED_TAX,
        ),
    )
    for side, lines, time, rate, base, tax in sources:
        keys = {"rate": F(rate), **({"bucket": period.bucket(time)} if series else {})}
        rows = lines.annotate(**keys).values(*keys).annotate(base=_sum(base), tax=_sum(tax))
        for row in rows.order_by():
            bucket = _label(row["bucket"]) if series else ""
            figures = (cents(row["base"]), cents(row["tax"]))
            found.setdefault(bucket, {}).setdefault(row["rate"], {})[side] = figures
    overall: dict[Decimal, dict[str, tuple[Decimal, Decimal]]] = {}
    for per_rate in found.values():
        for rate, sides in per_rate.items():
            for side, (base, tax) in sides.items():
                was = overall.setdefault(rate, {}).get(side, (ZERO, ZERO))
                overall[rate][side] = (was[0] + base, was[1] + tax)
    report = {"currency": currency, **_tax_rates(overall)}
    if series:
        report["periods"] = [
            {"period": bucket, **_tax_rates(found[bucket])} for bucket in sorted(found)
        ]
    return report


# --- stock --------------------------------------------------------------------------------------
def stock_report(*, store_id: UUID | None = None, as_of: datetime | None = None) -> dict[str, Any]:
    """Stock valuation per location and category, at cost and at retail (today's costs and
    prices), and the low-stock count. `as_of` (an instant): the quantities then, replayed from the
    movement ledger (the sum of every movement of a level before it)."""
    levels = stock_level_list(store_ids=None if store_id is None else [store_id]).annotate(
        retail_price=Coalesce(F("variant__price"), F("product__sell_price"), output_field=MONEY),
        category_id=F("product__category_id"),
        category_name=F("product__category__name"),
    )
    rows = list(
        levels.values(
            "store_id", "store_name", "product_id", "variant_id", "category_id", "category_name",
            "quantity", "unit_cost", "retail_price", "threshold",
        )
    )  # fmt: skip
    if as_of is not None:
        movements = StockMovement.objects.filter(created_at__lt=as_of)
        if store_id is not None:
            movements = movements.filter(store_id=store_id)
        replayed = {
            (m["store_id"], m["product_id"], m["variant_id"]): m["quantity"]
            for m in movements.values("store_id", "product_id", "variant_id").annotate(
                quantity=Sum("delta")
            )
        }
        for row in rows:
            key = (row["store_id"], row["product_id"], row["variant_id"])
            row["quantity"] = replayed.get(key, Decimal("0.000"))
    totals = _empty_stock()
    locations: dict[UUID, dict[str, Any]] = {}
    categories: dict[UUID | None, dict[str, Any]] = {}
    for row in rows:
        cost = cents(row["quantity"] * row["unit_cost"])
        retail = cents(row["quantity"] * row["retail_price"])
        low = row["quantity"] <= row["threshold"]
        for bucket in (
            totals,
            locations.setdefault(
                row["store_id"],
                {"store_id": row["store_id"], "name": row["store_name"], **_empty_stock()},
            ),
            categories.setdefault(
                row["category_id"],
                {
                    "category_id": row["category_id"],
                    "name": row["category_name"] or "",
                    **_empty_stock(),
                },
            ),
        ):
            bucket["quantity"] += row["quantity"]
            bucket["cost_value"] += cost
            bucket["retail_value"] += retail
            bucket["low_stock_count"] += int(low)
    by_name = lambda item: (item["name"], str(item.get("store_id") or item.get("category_id")))  # noqa: E731
    return {
        "as_of": as_of,
        "totals": totals,
        "by_location": sorted(locations.values(), key=by_name),
        "by_category": sorted(categories.values(), key=by_name),
    }


def _empty_stock() -> dict[str, Any]:
    return {
        "quantity": Decimal("0.000"),
        "cost_value": ZERO,
        "retail_value": ZERO,
        "low_stock_count": 0,
    }


# --- cashiers -----------------------------------------------------------------------------------
def cashier_report(*, period: Period) -> dict[str, Any]:
    """Per person who sold, voided sales of, returned or closed a shift in the period. Their
    discounts are without tax, as the sales report's."""
    people: dict[UUID, dict[str, Any]] = {}

    def person(user_id: UUID) -> dict[str, Any]:
        return people.setdefault(
            user_id,
            {
                "user_id": user_id,
                "name": "",
                "count": 0,
                "total": ZERO,
                "average_basket": ZERO,
                "items_per_sale": Decimal("0.00"),
                "discounts": ZERO,
                "voids": 0,
                "returns": ZERO,
                "cash_variance": ZERO,
                "_items": Decimal(0),
            },
        )

    for row in (
        _completed_sales(period)
        .values("cashier_id")
        .annotate(count=Count("id"), total=_sum("total"), discounts=_sum("untaxed_discounts"))
    ):
        # the discounts are the sales report's: the sales' stored ones without tax
        person(row["cashier_id"]).update(
            count=row["count"], total=row["total"], discounts=row["discounts"]
        )
    # (joined to their sales for the cashier and the sale's status)
    lines = period.of(SaleItem.objects.exclude(sale__status=SaleStatus.VOIDED), field="sold_at")
    for row in lines.values("sale__cashier_id").annotate(items=Sum("quantity")):
        person(row["sale__cashier_id"])["_items"] = row["items"]
    voids = period.of(Sale.objects.filter(status=SaleStatus.VOIDED), field="voided_at")
    for row in voids.values("cashier_id").annotate(count=Count("id")):
        person(row["cashier_id"])["voids"] = row["count"]
    returns = period.of(SaleReturn.objects.filter(created_by__isnull=False))
    for row in returns.values("created_by").annotate(total=_sum("refund_total")):
        person(row["created_by"])["returns"] = row["total"]
    shifts = period.of(Shift.objects.filter(variance__isnull=False), field="closed_at")
    for row in shifts.values("cashier_id").annotate(variance=_sum("variance")):
        person(row["cashier_id"])["cash_variance"] = row["variance"]
    names = dict(User.objects.filter(pk__in=list(people)).values_list("pk", "name"))
    for entry in people.values():
        entry["name"] = names.get(entry["user_id"], "")
        items = entry.pop("_items")
        if entry["count"]:
            entry["average_basket"] = cents(entry["total"] / entry["count"])
            entry["items_per_sale"] = cents(items / entry["count"])
    return {"cashiers": sorted(people.values(), key=lambda e: (-e["total"], e["name"]))}


# --- MIPOS reports --------------------------------------------------------------------------------
def _per_product(period: Period) -> QuerySet[SaleItem]:
    """What the period's lines took per product: quantity and total (tax included)."""
    return (
        _sold_lines(period)
        .values("product_id")
        .annotate(quantity=Sum("quantity"), total=_sum("line_total"))
        .order_by()
    )


def _with_sales(products: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """`products` with the number of the period's sales each was on: counted for these few
    only (a distinct count over every line of a year is the costliest part of a summary)."""
    sales = dict(
        _sold_lines(period)
        .filter(product_id__in=[row["product_id"] for row in products])
        .values("product_id")
        .annotate(sales=Count("sale_id", distinct=True))
        .values_list("product_id", "sales")
    )
    return [{**row, "sales": sales.get(row["product_id"], 0)} for row in products]


def top_products(*, period: Period, limit: int = 10) -> list[dict[str, Any]]:
    """The best sellers by what their lines took (tax included), with their quantity and the
    number of sales they were on."""
    rows = (
        _per_product(period)
        .annotate(name=F("product__name"))
        .order_by("-total", "name", "product_id")[:limit]
    )
    return _with_sales(list(rows), period)


def _top_products_and_categories(period: Period, limit: int) -> tuple[list, list]:
    """Both top lists from ONE pass over the lines: the per-product sums are computed once
    (a materialized CTE) and ranked twice, as products and rolled up to their categories."""
    per_product, params = _per_product(period).query.sql_with_params()
    product, category = (
        qualified_table(Product._meta.db_table),
        qualified_table(Category._meta.db_table),
    )
    sql = f"""
        WITH per_product AS MATERIALIZED ({per_product})
        (SELECT 'product', pp.product_id, p.name, pp.quantity, pp.total
         FROM per_product pp JOIN {product} p ON p.id = pp.product_id
         ORDER BY pp.total DESC, p.name, pp.product_id LIMIT %s)
        UNION ALL
        (SELECT 'category', p.category_id, coalesce(c.name, ''), sum(pp.quantity), sum(pp.total)
         FROM per_product pp JOIN {product} p ON p.id = pp.product_id
         LEFT JOIN {category} c ON c.id = p.category_id
         GROUP BY p.category_id, c.name ORDER BY 5 DESC, 3, 2 LIMIT %s)
    """  # noqa: S608 - identifiers from models, values bound
    with read_connection().cursor() as cursor:
        cursor.execute(sql, [*params, limit, limit])
        rows = cursor.fetchall()
    products = [
        {"product_id": key, "name": name, "quantity": quantity, "total": total}
        for kind, key, name, quantity, total in rows
        if kind == "product"
    ]
    categories = [
        {"category_id": key, "name": name, "quantity": quantity, "total": total}
        for kind, key, name, quantity, total in rows
        if kind == "category"
    ]
    return _with_sales(products, period), categories


# Every time zone's offset from UTC is a whole number of quarter hours (and changes at a whole
# hour), so a 15-minute UTC slot lies inside one local hour: the sales are summed per slot
# (cheap: no time-zone arithmetic), and only the slots are turned into local weekdays and hours.
_HEAT_MAP = """
    SELECT extract(isodow FROM slot AT TIME ZONE %s)::int AS weekday,
           extract(hour FROM slot AT TIME ZONE %s)::int AS hour,
           sum(count)::int AS count, sum(total) AS total
    FROM ({slots}) AS slots GROUP BY 1, 2 ORDER BY 1, 2
"""


def _heat_map(period: Period) -> list[dict[str, Any]]:
    slot = Func(
        Value(timedelta(minutes=15)),
        F("created_at"),
        Value(datetime(2000, 1, 1, tzinfo=UTC)),
        function="date_bin",
        output_field=DateTimeField(),
    )
    slots, params = (
        _completed_sales(period)
        .annotate(slot=slot)
        .values("slot")
        .annotate(count=Count("id"), total=_sum("total"))
        .order_by()
        .query.sql_with_params()
    )
    zone = period.time_zone or "UTC"
    with read_connection().cursor() as cursor:
        cursor.execute(_HEAT_MAP.format(slots=slots), [zone, zone, *params])
        return [
            {"weekday": weekday, "hour": hour, "count": count, "total": total}
            for weekday, hour, count, total in cursor.fetchall()
        ]


def sales_summary(*, period: Period, limit: int = 10) -> dict[str, Any]:
    """Top products and categories by what the lines took (tax included), and when the shop
    sells: sales and their totals per weekday (1 = Monday) and hour, in the company's zone."""
    products, categories = _top_products_and_categories(period, limit)
    return {"top_products": products, "top_categories": categories, "heat_map": _heat_map(period)}


AGEING = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def financial_report(*, period: Period, now: datetime) -> dict[str, Any]:
    """The period's P&L and the money received by method; what customers owe (their due sales'
    outstanding amounts, aged by the sale's date: 0-30, 31-60, 61-90, 90+ days) and what the shop
    owes its suppliers, both as they stand `now`."""
    # the P&L's totals only: one ungrouped pass over the lines (the profit report's by store
    # and by period are not needed here)
    sold = _profit_parts(period).get((), {"revenue": ZERO, "cost": Decimal(0)})
    revenue, cost = sold["revenue"], cents(sold["cost"])
    expenses = _expenses(period).aggregate(total=_sum("amount"))["total"]
    outstanding = F("due_amount") - F("due_paid") - F("due_returned")
    due = (
        Sale.objects.exclude(status=SaleStatus.VOIDED)
        .annotate(outstanding=outstanding)
        .filter(outstanding__gt=0)
    )
    if period.store_id is not None:
        due = due.filter(store_id=period.store_id)
    buckets = {label: ZERO for label, _low, _high in AGEING}
    customers = set()
    for row in due.values("created_at", "outstanding", "customer_id"):
        age = (now - row["created_at"]).days
        label = next(
            name for name, low, high in AGEING if age >= low and (high is None or age <= high)
        )
        buckets[label] += row["outstanding"]
        customers.add(row["customer_id"])
    suppliers = list(
        Supplier.objects.alive()
        .filter(balance__gt=0)
        .values("id", "name", "balance")
        .order_by("-balance", "name")
    )
    return {
        "profit_and_loss": {
            "revenue": revenue,
            "cost_of_goods": cost,
            "gross_profit": revenue - cost,
            "expenses": expenses,
            "net_profit": revenue - cost - expenses,
        },
        "payments_by_method": payments_by_method(period=period),
        "receivables": {
            "total": sum(buckets.values(), ZERO),
            "customers": len(customers),
            "ageing": [{"bucket": label, "total": buckets[label]} for label, _l, _h in AGEING],
        },
        "payables": {
            "total": sum((s["balance"] for s in suppliers), ZERO),
            "suppliers": [
                {"supplier_id": s["id"], "name": s["name"], "balance": s["balance"]}
                for s in suppliers
            ],
        },
    }


def inventory_report(
    *, period: Period, now: datetime, dead_stock_days: int = 90, limit: int = 10
) -> dict[str, Any]:
    """Per product (or variant), from the movement ledger: the quantity at the period's start,
    what came in and went out by movement type, and the quantity at its end (opening + in - out,
    which is also the ledger's sum at the end). Then the slow movers (in stock, sold least in the
    period) and the dead stock (in stock, no sale for `dead_stock_days`, with the days since the
    last sale — null when never sold)."""
    from django.db.models import Max

    movements = StockMovement.objects.all()
    if period.store_id is not None:
        movements = movements.filter(store_id=period.store_id)
    key_of = ("product_id", "variant_id")
    rows: dict[tuple, dict[str, Any]] = {}

    def row(key: tuple) -> dict[str, Any]:
        return rows.setdefault(
            key,
            {
                "product_id": key[0],
                "variant_id": key[1],
                "opening": Decimal("0.000"),
                "in": {},
                "out": {},
                "closing": Decimal("0.000"),
            },
        )

    if period.start is not None:
        before = movements.filter(created_at__lt=period.start)
        for found in before.values(*key_of).annotate(quantity=Sum("delta")):
            row((found["product_id"], found["variant_id"]))["opening"] = found["quantity"]
    during = movements
    if period.start is not None:
        during = during.filter(created_at__gte=period.start)
    if period.end is not None:
        during = during.filter(created_at__lt=period.end)
    zero = Value(Decimal(0))
    for found in during.values(*key_of, "type").annotate(
        came=Coalesce(Sum(Case(When(delta__gt=0, then=F("delta")))), zero),
        went=Coalesce(Sum(Case(When(delta__lt=0, then=-F("delta")))), zero),
    ):
        entry = row((found["product_id"], found["variant_id"]))
        if found["came"]:
            entry["in"][found["type"]] = found["came"]
        if found["went"]:
            entry["out"][found["type"]] = found["went"]
    for entry in rows.values():
        entry["closing"] = (
            entry["opening"]
            + sum(entry["in"].values(), Decimal(0))
            - sum(entry["out"].values(), Decimal(0))
        )
    products = dict(Product.objects.filter(pk__in={k[0] for k in rows}).values_list("pk", "name"))
    variants = dict(
        ProductVariant.objects.filter(pk__in={k[1] for k in rows if k[1]}).values_list("pk", "name")
    )
    for entry in rows.values():
        entry["name"] = products.get(entry["product_id"], "")
        entry["variant_name"] = variants.get(entry["variant_id"]) if entry["variant_id"] else None

    # in stock now, with what the period sold and when each was last sold
    levels = StockLevel.objects.filter(quantity__gt=0, product__deleted_at__isnull=True)
    if period.store_id is not None:
        levels = levels.filter(store_id=period.store_id)
    on_hand = {
        (r["product_id"], r["variant_id"]): r["quantity"]
        for r in levels.values(*key_of).annotate(quantity=Sum("quantity"))
    }
    sold = {
        (r["product_id"], r["variant_id"]): r["quantity"]
        for r in _sold_lines(period).values(*key_of).annotate(quantity=Sum("quantity"))
    }
    every_sale = counted_lines()
    if period.store_id is not None:
        every_sale = every_sale.filter(store_id=period.store_id)
    last_sold = {
        (r["product_id"], r["variant_id"]): r["last"]
        for r in every_sale.filter(product_id__in={k[0] for k in on_hand})
        .values(*key_of)
        .annotate(last=Max("sold_at"))
    }
    names = dict(Product.objects.filter(pk__in={k[0] for k in on_hand}).values_list("pk", "name"))

    def item(key: tuple) -> dict[str, Any]:
        last = last_sold.get(key)
        return {
            "product_id": key[0],
            "variant_id": key[1],
            "name": names.get(key[0], ""),
            "on_hand": on_hand[key],
            "sold": sold.get(key, Decimal("0.000")),
            "last_sold_at": last,
            "days_since_last_sale": (now - last).days if last else None,
        }

    slow = sorted(on_hand, key=lambda k: (sold.get(k, Decimal(0)), names.get(k[0], ""), str(k)))
    dead = [
        key
        for key in on_hand
        if last_sold.get(key) is None or (now - last_sold[key]).days >= dead_stock_days
    ]
    return {
        "products": sorted(rows.values(), key=lambda e: (e["name"], e["variant_name"] or "")),
        "slow_movers": [item(key) for key in slow[:limit]],
        "dead_stock": sorted(
            (item(key) for key in dead),
            key=lambda e: (-(e["days_since_last_sale"] or 10**6), e["name"]),
        )[:limit],
    }


def sale_line_list(*, period: Period) -> QuerySet[SaleItem]:
    """Every line of the period's sales that are not voided, oldest first (the sale-lines
    export), with the sale and its store in the same query."""
    return (
        _sold_lines(period)
        .select_related("sale", "sale__store")
        .order_by("sold_at", "sale_id", "position")
    )


# --- the dashboards: the reports' own figures --------------------------------------------------


def sales_figures(*, since, store_id: UUID | None = None) -> dict:
    """Sales since `since` (voids excluded): their count, their total net of the refunds made
    since then, and the average sale — the sales report's own totals, so they always agree."""
    totals = sales_totals(period=Period(since, None, "UTC", store_id))
    return {
        "sales_count": totals["count"],
        "sales_total": totals["net"],
        "average_sale": totals["average_basket"],
    }


def tenant_dashboard(*, tenant) -> dict:
    """The company dashboard: today's and this month's sales (days in the company's time
    zone), counts, stock figures and what customers owe."""
    stores = Store.objects.alive()
    today, month = day_and_month_start(time_zone=tenant_settings_cached(tenant=tenant).timezone)
    customers = Customer.objects.alive()
    return {
        "today": sales_figures(since=today),
        "month": sales_figures(since=month),
        "stores": stores.filter(kind=StoreKind.RETAIL).count(),
        "warehouses": stores.filter(kind=StoreKind.WAREHOUSE).count(),
        "active_users": User.objects.filter(
            tenant=tenant, is_active=True, deleted_at__isnull=True
        ).count(),
        "products": Product.objects.alive().count(),
        "customers": customers.count(),
        **stock_totals(),
        "open_transfers": open_transfer_count(),
        "customer_dues": customers.filter(balance__gt=0).aggregate(t=Sum("balance"))["t"] or ZERO,
    }


def store_stats(*, store) -> dict:
    """The store dashboard: today's and this month's sales (days in the store's time zone, else
    the company's), stock figures, open transfers."""
    zone = store.timezone or tenant_settings_cached(tenant=connection.tenant).timezone
    today, month = day_and_month_start(time_zone=zone)

    def figures(since) -> dict:
        found = sales_figures(since=since, store_id=store.pk)
        return {"sales_count": found["sales_count"], "sales_total": found["sales_total"]}

    return {
        "store_id": store.pk,
        "today": figures(today),
        "month": figures(month),
        **stock_totals(store_id=store.pk),
        "open_transfers": open_transfer_count(store_id=store.pk),
    }
