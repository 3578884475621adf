"""A request's items and locations checked in one round trip (the catalogue's rows read through
`apps.catalog.selectors`), and the level as the stock list shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection

from apps.catalog.selectors import (
    CATALOGUE_ITEMS_SQL,
    catalogue_item_identity_check,
    catalogue_items_fetch,
    catalogue_items_params,
)
from apps.catalog.validation import whole_units_check
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
    ValidationFailed,
)
from apps.core.money import cents
from apps.inventory.services.moves import MAX_ITEMS, Level


@dataclass(frozen=True)
class ItemRef:
    product_id: UUID
    variant_id: UUID | None
    field: str  # "items.2"


@dataclass(frozen=True)
class CatalogItem:
    """What a level's row shows of its product or variant."""

    product_id: UUID
    variant_id: UUID | None
    product_name: str
    variant_name: str | None
    sku: str
    unit_cost: Decimal


# Locations share-locked until the transaction ends (they cannot be deleted while stock moves
# in or out of them), then each item as the catalogue reads it, in request order: one round trip
_LOCATIONS_SQL = (
    "SELECT id, name FROM stores_store WHERE id = ANY(%s::uuid[]) AND deleted_at IS NULL"
    " ORDER BY id FOR SHARE;"
)
_CHECK_SQL = _LOCATIONS_SQL + CATALOGUE_ITEMS_SQL


def items_check(
    refs: Sequence[ItemRef],
    *,
    quantities: dict[str, dict[str, Decimal]],
    stores: dict[UUID, str],
    max_items: int = MAX_ITEMS,
) -> tuple[dict[UUID, str], dict[str, CatalogItem]]:
    """Checks a request in one round trip: every location of `stores` (id → request field) is a
    live location of this company (400 otherwise); every item's product is live and tracks
    stock (422 otherwise), its variant is a live variant of it and is named when the product has
    variants, each quantity (`quantities`: item field → name → value) is whole unless the unit
    allows fractions (400). Returns the locations' names and the items by field."""
    if not refs:
        raise ValidationFailed.for_field("items", "At least one item is required.")
    if len(refs) > max_items:
        raise ValidationFailed.for_field("items", f"At most {max_items} items per request.")
    seen: dict[tuple, str] = {}
    for ref in refs:
        pair = (ref.product_id, ref.variant_id)
        if pair in seen:
            raise ValidationFailed.for_field(
                ref.field, f"Same product and variant as {seen[pair]}."
            )
        seen[pair] = ref.field
    with connection.cursor() as cursor:
        cursor.execute(
            _CHECK_SQL,
            [
                sorted(stores, key=lambda pk: pk.int),
                *catalogue_items_params([(ref.product_id, ref.variant_id) for ref in refs]),
            ],
        )
        names = dict(cursor.fetchall())
        cursor.nextset()
        rows = catalogue_items_fetch(cursor)
    for store_id, field in stores.items():
        if store_id not in names:
            raise ValidationFailed.for_field(field, "Unknown store.")
    items: dict[str, CatalogItem] = {}
    untracked = []
    for ref, row in zip(refs, rows, strict=True):
        catalogue_item_identity_check(field=ref.field, requested_variant=ref.variant_id, item=row)
        if not row.allows_fraction:
            whole_units(ref, quantities)
        if not row.track_stock:
            untracked.append(
                {
                    "field": ref.field,
                    "message": "This product does not track stock.",
                    "productId": str(row.product_id),
                }
            )
        items[ref.field] = CatalogItem(
            product_id=row.product_id,
            variant_id=row.variant_id,
            product_name=row.name,
            variant_name=row.variant_name,
            sku=row.variant_sku or row.sku,
            unit_cost=row.unit_cost,
        )
    if untracked:
        raise BusinessRuleViolation(
            "Some products do not track stock.", code=ErrorCode.STOCK_NOT_TRACKED, details=untracked
        )
    return names, items


@dataclass(frozen=True)
class LevelView:
    """A level as the stock list shows it (the answer of an adjust or a set)."""

    store_id: UUID
    store_name: str
    product_id: UUID
    variant_id: UUID | None
    product_name: str
    variant_name: str | None
    sku: str
    quantity: Decimal
    threshold: Decimal
    is_low: bool
    unit_cost: Decimal
    stock_value: Decimal
    updated_at: datetime


def level_view(level: Level, item: CatalogItem, store_name: str, default: Decimal) -> LevelView:
    threshold = level.low_stock_threshold if level.low_stock_threshold is not None else default
    return LevelView(
        store_id=level.store_id,
        store_name=store_name,
        product_id=level.product_id,
        variant_id=level.variant_id,
        product_name=item.product_name,
        variant_name=item.variant_name,
        sku=item.sku,
        quantity=level.quantity,
        threshold=threshold,
        is_low=level.quantity <= threshold,
        unit_cost=item.unit_cost,
        stock_value=cents(level.quantity * item.unit_cost),
        updated_at=level.updated_at,
    )


def whole_units(ref: ItemRef, quantities: dict[str, dict[str, Decimal]]) -> None:
    """400 for the first of the item's quantities that is not a whole number."""
    for name, value in quantities.get(ref.field, {}).items():
        whole_units_check(field=f"{ref.field}.{name}", quantity=value, allows_fraction=False)
