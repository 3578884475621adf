"""Products' costs as purchase receipts move them: the current costs read with their rows locked,
then the new (averaged) costs written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from apps.catalog.models import Product, ProductVariant
from apps.core.db import values_update

CostKey = tuple[UUID, UUID | None]  # (product, variant or None)


def product_costs_lock(*, items: Iterable[CostKey]) -> dict[CostKey, Decimal]:
    """The current cost of every (product, variant) in `items`, their rows locked (by id:
    products, then variants) until the caller's transaction ends, so two receipts of one product
    average one after the other. A variant without its own cost has its product's. Keys in the
    order of `items` (first occurrence)."""
    items = list(items)
    product_ids = sorted({product_id for product_id, _ in items}, key=lambda pk: pk.int)
    variant_ids = sorted(
        {variant_id for _, variant_id in items if variant_id}, key=lambda pk: pk.int
    )
    products = dict(
        Product.objects.select_for_update()
        .filter(pk__in=product_ids)
        .order_by("pk")
        .values_list("pk", "cost_price")
    )
    variants = {
        pk: (cost, product_id)
        for pk, cost, product_id in ProductVariant.objects.select_for_update()
        .filter(pk__in=variant_ids)
        .order_by("pk")
        .values_list("pk", "cost", "product_id")
    }
    costs = {}
    for product_id, variant_id in items:
        if variant_id:
            cost, owner_id = variants[variant_id]
            costs[(product_id, variant_id)] = cost if cost is not None else products[owner_id]
        else:
            costs[(product_id, None)] = products[product_id]
    return costs


def product_costs_set(*, costs: dict[CostKey, Decimal]) -> None:
    """The new costs (rows locked by `product_costs_lock`), one statement per table (products;
    variants), `updated_at` now; in the caller's transaction. Not audited: the purchase receipt
    records each cost before and after."""
    now = timezone.now()
    products = [(pk, cost) for (pk, variant), cost in costs.items() if variant is None]
    variants = [(variant, cost) for (_, variant), cost in costs.items() if variant is not None]
    values_update("catalog_product", "cost_price", products, updated_at=now)
    values_update("catalog_productvariant", "cost", variants, updated_at=now)
