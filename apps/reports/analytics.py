"""Analytics over the sales: which products are bought together (market basket)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db import connection

from apps.core.db import qualified_table
from apps.core.errors import ValidationFailed
from apps.reports.selectors import Period

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
    sale, item = qualified_table("sales_sale"), qualified_table("sales_saleitem")
    product = qualified_table("catalog_product")
    where, params = ["s.status <> 'VOIDED'"], []
    if period.start is not None:
        where.append("s.created_at >= %s")
        params.append(period.start)
    if period.end is not None:
        where.append("s.created_at < %s")
        params.append(period.end)
    if period.store_id is not None:
        where.append("s.store_id = %s")
        params.append(period.store_id)
    if exclude_product_ids:
        where.append("NOT (i.product_id = ANY(%s))")
        params.append(list(exclude_product_ids))
    sql = f"""
        WITH baskets AS (
            SELECT DISTINCT i.sale_id, i.product_id
            FROM {item} i JOIN {sale} s ON s.id = i.sale_id
            WHERE {" AND ".join(where)}
        ),
        total AS (SELECT count(DISTINCT sale_id) AS n FROM baskets),
        singles AS (SELECT product_id, count(*) AS c FROM baskets GROUP BY product_id),
        pairs AS (
            SELECT a.product_id AS x, b.product_id AS y, count(*) AS c
            FROM baskets a JOIN baskets b ON a.sale_id = b.sale_id AND a.product_id < b.product_id
            GROUP BY a.product_id, b.product_id
            HAVING count(*) >= %s::numeric * (SELECT n FROM total)
        )
        SELECT p.x, p.y, p.c, sx.c, sy.c, (SELECT n FROM total), px.name, py.name
        FROM pairs p
        JOIN singles sx ON sx.product_id = p.x
        JOIN singles sy ON sy.product_id = p.y
        JOIN {product} px ON px.id = p.x
        JOIN {product} py ON py.id = p.y
    """  # noqa: S608 - identifiers from models, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, min_support])
        found = cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT i.sale_id) FROM {item} i JOIN {sale} s ON s.id = i.sale_id"  # noqa: S608
            f" WHERE {' AND '.join(where)}",
            params,
        )
        (baskets,) = cursor.fetchone()
    rules = []
    for x, y, both, count_x, count_y, n, name_x, name_y in found:
        support = Decimal(both) / n
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
                    "lift": _ratio(confidence / (Decimal(count_b) / n)),
                }
            )
    rules.sort(
        key=lambda r: (-r["lift"], -r["support"], r["antecedent"]["name"], r["consequent"]["name"])
    )
    return {"baskets": baskets, "rules": rules[:limit]}


def trends(*, period) -> dict[str, Any]:
    """The period's sales totals against the period of the same length just before it, with
    the change of each figure (percent of the previous; null when the previous was zero)."""
    from dataclasses import replace

    from apps.reports.selectors import sales_totals

    if period.start is None or period.end is None:
        raise ValidationFailed.for_field("from", "Trends need both from and to.")
    previous = replace(period, start=period.start - (period.end - period.start), end=period.start)
    now, before = sales_totals(period=period), sales_totals(period=previous)
    change = {}
    for key in ("count", "gross", "net", "returns", "average_basket"):
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

    from apps.catalog.models import Product
    from apps.inventory.models import StockLevel
    from apps.purchasing.models import PurchaseOrderItem, PurchaseStatus
    from apps.sales.models import SaleItem, SaleStatus

    key = ("sale__store_id", "product_id", "variant_id")
    sold = SaleItem.objects.exclude(sale__status=SaleStatus.VOIDED).filter(
        sale__created_at__gte=now - timedelta(days=days), sale__created_at__lt=now
    )
    levels = StockLevel.objects.all()
    ordered = PurchaseOrderItem.objects.filter(
        order__status__in=[PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED]
    )
    if store_id is not None:
        sold = sold.filter(sale__store_id=store_id)
        levels = levels.filter(store_id=store_id)
        ordered = ordered.filter(order__store_id=store_id)
    velocity = {
        (r["sale__store_id"], r["product_id"], r["variant_id"]): r["quantity"]
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
        suggestions.append(
            {
                "store_id": item[0], "product_id": item[1], "variant_id": item[2],
                "name": names.get(item[1], ""), "sold": quantity,
                "per_day": per_day.quantize(Decimal("0.001"), ROUND_HALF_UP),
                "needed": needed.quantize(Decimal("0.001"), ROUND_HALF_UP),
                "on_hand": on_hand.get(item, Decimal("0.000")),
                "on_order": on_order.get(item, Decimal("0.000")),
                "suggested": math.ceil(short),
            }
        )  # fmt: skip
    suggestions.sort(key=lambda s: (-s["suggested"], s["name"], str(s["store_id"])))
    return {
        "days": days, "lead_time_days": lead_time_days, "safety_days": safety_days,
        "suggestions": suggestions[:limit],
    }  # fmt: skip
