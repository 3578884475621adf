"""Analytics over the sales: which products are bought together (market basket)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db import connection

from apps.core.db import qualified_table
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
