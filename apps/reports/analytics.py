"""Analytics over the sales: which products are bought together (market basket)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from apps.catalog.models import Product
from apps.core.errors import ValidationFailed
from apps.core.replica import read_connection
from apps.inventory.models import StockLevel
from apps.purchasing.models import PurchaseOrderItem, PurchaseStatus
from apps.reports.selectors import Period, counted_lines, sales_totals
from apps.sales.models import Sale, SaleStatus

RATIO = Decimal("0.0001")


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


def market_basket(
    *,
    period: Period,
    min_support: Decimal,
    min_confidence: Decimal,
    limit: int,
    exclude_product_ids: list[UUID],
) -> dict[str, Any]:
    """Association rules between two products over the period's baskets (a sale that is not
    voided = the set of products on it, the excluded ones left out; baskets left empty do not
    count). For A → B: support = baskets with both / baskets; confidence = baskets with both /
    baskets with A; lift = confidence / (baskets with B / baskets). Rules at or above both
    minimums, by lift, then support, then names; both directions of a pair are rules."""
    baskets = period.of(Sale.objects.exclude(status=SaleStatus.VOIDED)).exclude(product_ids=[])
    excluded = list(exclude_product_ids)
    if excluded:  # a basket of excluded products only is no basket
        baskets = baskets.exclude(product_ids__contained_by=excluded)
    total = baskets.count()
    if not total:
        return {"baskets": 0, "rules": []}
    # each basket's products, and its pairs, are its sorted `product_ids` crossed with itself:
    # x = y counts the baskets with x, x < y those with both (nothing read from the lines)
    chosen, params = baskets.values("product_ids").order_by().query.sql_with_params()
    keep = "AND NOT (x = ANY(%s)) AND NOT (y = ANY(%s))" if excluded else ""
    sql = f"""
        SELECT x, y, count(*) FROM ({chosen}) AS b, unnest(b.product_ids) AS x,
             unnest(b.product_ids) AS y
        WHERE x <= y {keep}
        GROUP BY x, y HAVING x = y OR count(*) >= %s
    """  # noqa: S608 - the inner query is the ORM's, values bound
    at_least = max(1, math.ceil(min_support * total))
    with read_connection().cursor() as cursor:
        cursor.execute(sql, [*params, *([excluded, excluded] if excluded else []), at_least])
        counted = cursor.fetchall()
    singles = {x: c for x, y, c in counted if x == y}
    found = [(x, y, c) for x, y, c in counted if x != y]
    names = dict(
        Product.objects.filter(pk__in={p for x, y, _ in found for p in (x, y)}).values_list(
            "pk", "name"
        )
    )
    rules = []
    for x, y, both in found:
        count_x, count_y, name_x, name_y = singles[x], singles[y], names[x], names[y]
        support = Decimal(both) / total
        for (a, name_a, count_a), (b, name_b, count_b) in (
            ((x, name_x, count_x), (y, name_y, count_y)),
            ((y, name_y, count_y), (x, name_x, count_x)),
        ):
            confidence = Decimal(both) / count_a
            if confidence < min_confidence:
                continue
            rules.append(
                {
                    "antecedent": {"product_id": a, "name": name_a},
                    "consequent": {"product_id": b, "name": name_b},
                    "baskets": both,
                    "support": _ratio(support),
                    "confidence": _ratio(confidence),
                    "lift": _ratio(confidence / (Decimal(count_b) / total)),
                }
            )
    rules.sort(
        key=lambda r: (-r["lift"], -r["support"], r["antecedent"]["name"], r["consequent"]["name"])
    )
    return {"baskets": total, "rules": rules[:limit]}


def trends(*, period) -> dict[str, Any]:
    """The period's sales totals against the period of the same length just before it, with
    the change of each figure (percent of the previous; null when the previous was zero)."""
    from dataclasses import replace

    if period.start is None or period.end is None:
        raise ValidationFailed.for_field("from", "Trends need both from and to.")
    previous = replace(period, start=period.start - (period.end - period.start), end=period.start)
    now, before = sales_totals(period=period), sales_totals(period=previous)
    change = {}
    for key in (
        "count", "gross", "net", "returns", "average_basket", "gross_sales", "net_sales", "tax",
        "total_collected",
    ):  # fmt: skip
        old = Decimal(before[key])
        change[key] = (
            ((Decimal(now[key]) - old) * 100 / old).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if old
            else None
        )
    return {
        "current": {"from": period.start, "to": period.end, **now},
        "previous": {"from": previous.start, "to": previous.end, **before},
        "change_percent": change,
    }


def reorder_suggestions(
    *,
    now,
    store_id: UUID | None,
    days: int,
    lead_time_days: int,
    safety_days: int,
    limit: int,
) -> dict[str, Any]:
    """What to order, per location and product (or variant): the units sold per day over the
    last `days` (sales not voided) x (`lead_time_days` + `safety_days`) is what must be covered;
    less the stock on hand and what open purchase orders still bring; rounded up to whole units.
    Only items that sold and fall short, the largest shortfall first."""
    import math
    from datetime import timedelta

    from django.db.models import F, Sum

    key = ("store_id", "product_id", "variant_id")
    sold = counted_lines().filter(sold_at__gte=now - timedelta(days=days), sold_at__lt=now)
    levels = StockLevel.objects.all()
    ordered = PurchaseOrderItem.objects.filter(
        order__status__in=[PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED]
    )
    if store_id is not None:
        sold = sold.filter(store_id=store_id)
        levels = levels.filter(store_id=store_id)
        ordered = ordered.filter(order__store_id=store_id)
    velocity = {
        (r["store_id"], r["product_id"], r["variant_id"]): r["quantity"]
        for r in sold.values(*key).annotate(quantity=Sum("quantity"))
    }
    on_hand = {
        (r["store_id"], r["product_id"], r["variant_id"]): r["quantity"]
        for r in levels.values("store_id", "product_id", "variant_id", "quantity")
    }
    on_order = {
        (r["order__store_id"], r["product_id"], r["variant_id"]): r["pending"]
        for r in ordered.values("order__store_id", "product_id", "variant_id").annotate(
            pending=Sum(F("quantity") - F("received_quantity"))
        )
    }
    names = dict(Product.objects.filter(pk__in={k[1] for k in velocity}).values_list("pk", "name"))
    cover = lead_time_days + safety_days
    suggestions = []
    for item, quantity in velocity.items():
        per_day = Decimal(quantity) / days
        needed = per_day * cover
        have = on_hand.get(item, Decimal(0)) + on_order.get(item, Decimal(0))
        short = needed - have
        if short <= 0:
            continue
        item_store_id, product_id, variant_id = item  # the key: ("store_id", "product_id", …)
        suggestions.append(
            {
                "store_id": item_store_id,
                "product_id": product_id,
                "variant_id": variant_id,
                "name": names.get(product_id, ""),
                "sold": quantity,
                "per_day": per_day.quantize(Decimal("0.001"), ROUND_HALF_UP),
                "needed": needed.quantize(Decimal("0.001"), ROUND_HALF_UP),
                "on_hand": on_hand.get(item, Decimal("0.000")),
                "on_order": on_order.get(item, Decimal("0.000")),
                "suggested": math.ceil(short),
            }
        )
    suggestions.sort(key=lambda s: (-s["suggested"], s["name"], str(s["store_id"])))
    return {
        "days": days,
        "lead_time_days": lead_time_days,
        "safety_days": safety_days,
        "suggestions": suggestions[:limit],
    }
