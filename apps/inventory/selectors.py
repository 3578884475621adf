"""Inventory reads: stock levels with what a row shows, movements, transfers."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import connection
from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round

from apps.catalog.models import Product
from apps.core.errors import NotFound
from apps.core.money import cents, cost_field, money_total_field, quantity_field
from apps.inventory.models import (
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    Transfer,
    TransferItem,
    TransferStatus,
)
from apps.stores.models import Store
from apps.tenants.selectors import tenant_settings_cached

QUANTITY = quantity_field()  # expression types (no cast in SQL)
MONEY = money_total_field()
COST = cost_field()


def company_stock_settings(*, tenant=None):
    """The company's settings (allow negative stock, default low-stock threshold): those read
    with `tenant` in this request (the request's user comes with them), else the current
    company's."""
    return tenant_settings_cached(tenant=tenant if tenant is not None else connection.tenant)


def stock_level_list(*, store_ids: list[UUID] | None = None) -> QuerySet[StockLevel]:
    """Levels with product, variant and store names, the SKU shown (the variant's, else the
    product's), the effective threshold (`threshold`), `is_low`, the unit cost and the value at
    cost — all in one query, as flat attributes (`services.LevelView` has the same)."""
    default = Decimal(company_stock_settings().default_low_stock_threshold)
    threshold = Coalesce(F("low_stock_threshold"), Value(default), output_field=QUANTITY)
    unit_cost = Coalesce(F("variant__cost"), F("product__cost_price"), output_field=COST)
    queryset = (
        StockLevel.objects.filter(product__deleted_at__isnull=True, store__deleted_at__isnull=True)
        .filter(Q(variant__isnull=True) | Q(variant__deleted_at__isnull=True))
        .annotate(
            store_name=F("store__name"),
            product_name=F("product__name"),
            variant_name=F("variant__name"),
            sku=Coalesce(F("variant__sku"), F("product__sku")),
            threshold=threshold,
            is_low=Case(When(quantity__lte=threshold, then=Value(True)), default=Value(False)),
            unit_cost=unit_cost,
            stock_value=Round(ExpressionWrapper(F("quantity") * unit_cost, output_field=MONEY), 2),
        )
    )
    if store_ids is not None:
        queryset = queryset.filter(store_id__in=store_ids)
    return queryset


def store_and_product_check(*, store_id: UUID, product_id: UUID) -> None:
    """404 when the path names no live location or product of this company."""
    if not Store.objects.alive().filter(pk=store_id).exists():
        raise NotFound("Store not found.")
    if not Product.objects.alive().filter(pk=product_id).exists():
        raise NotFound("Product not found.")


def stock_level_get(*, store_id: UUID, product_id: UUID, variant_id: UUID | None) -> StockLevel:
    level = (
        stock_level_list()
        .filter(store_id=store_id, product_id=product_id, variant_id=variant_id)
        .first()
    )
    if level is None:
        raise NotFound("Stock level not found.")
    return level


def stock_levels_by_id(ids: list[UUID]) -> list[StockLevel]:
    """The levels `ids` in that order (the answer of an adjust or set)."""
    found = stock_level_list().in_bulk(ids)
    return [found[pk] for pk in ids]


def movement_list(*, store_ids: list[UUID] | None = None) -> QuerySet[StockMovement]:
    queryset = StockMovement.objects.order_by("-created_at", "-id")
    if store_ids is not None:
        queryset = queryset.filter(store_id__in=store_ids)
    return queryset


def transfer_list(*, store_ids: list[UUID] | None = None) -> QuerySet[Transfer]:
    queryset = Transfer.objects.prefetch_related(
        Prefetch("items", queryset=TransferItem.objects.order_by("position"))
    ).order_by("-number")
    if store_ids is not None:
        queryset = queryset.filter(Q(from_store_id__in=store_ids) | Q(to_store_id__in=store_ids))
    return queryset


def transfer_get(*, transfer_id, store_ids: list[UUID] | None = None) -> Transfer:
    transfer = transfer_list(store_ids=store_ids).filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound("Transfer not found.")
    return transfer


def stock_totals(*, store_id: UUID | None = None) -> dict:
    """Value at cost and number of low levels, for one location or the whole company."""
    from django.db.models import Count, Sum

    levels = stock_level_list()
    if store_id is not None:
        levels = levels.filter(store_id=store_id)
    totals = levels.aggregate(
        total_value=Sum("stock_value"), low_levels=Count("id", filter=Q(is_low=True))
    )
    return {
        "stock_value": totals["total_value"] or Decimal("0.00"),
        "low_stock_count": totals["low_levels"],
    }


def open_transfer_count(*, store_id: UUID | None = None) -> int:
    """PENDING and IN_TRANSIT transfers (from or to `store_id` when given)."""
    transfers = Transfer.objects.filter(
        status__in=[TransferStatus.PENDING, TransferStatus.IN_TRANSIT]
    )
    if store_id is not None:
        transfers = transfers.filter(Q(from_store_id=store_id) | Q(to_store_id=store_id))
    return transfers.count()


def _count_lines():
    return StockCountLine.objects.annotate(
        product_name=F("product__name"),
        sku=Coalesce(F("variant__sku"), F("product__sku")),
        cost=Coalesce(F("unit_cost"), F("variant__cost"), F("product__cost_price")),
    ).order_by("counted_at", "id")


def count_list(*, store_ids: list[UUID] | None = None):
    queryset = StockCount.objects.prefetch_related(Prefetch("lines", queryset=_count_lines()))
    if store_ids is not None:
        queryset = queryset.filter(store_id__in=store_ids)
    return queryset.order_by("-number")


def count_get(*, count_id, store_ids: list[UUID] | None = None):
    count = count_list(store_ids=store_ids).filter(pk=count_id).first()
    if count is None:
        raise NotFound("Count not found.")
    return count


def count_variance(count) -> dict:
    """Units and value (at cost: the cost when finalized, else today's) counted over and short
    of the books, over the count's lines (prefetched by `count_list`)."""
    over = short = value_over = value_short = Decimal(0)
    different = 0
    for line in count.lines.all():
        difference = line.counted_quantity - line.expected_quantity
        value = cents(difference * line.cost)
        if difference > 0:
            over, value_over = over + difference, value_over + value
        elif difference < 0:
            short, value_short = short - difference, value_short - value
        different += difference != 0
    return {
        "lines_counted": len(count.lines.all()),
        "lines_different": different,
        "units_over": over,
        "units_short": short,
        "value_over": cents(value_over),
        "value_short": cents(value_short),
        "value_difference": cents(value_over - value_short),
    }
