"""Manual stock changes: adjust by a delta, set to a counted quantity, the low-stock threshold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditLog
from apps.audit.services import audit_entry, audit_record
from apps.core.errors import (
    ValidationFailed,
)
from apps.core.serializers import quantity_text
from apps.inventory.models import (
    MovementType,
    StockLevel,
)
from apps.inventory.selectors import company_stock_settings
from apps.inventory.services.items import ItemRef, LevelView, items_check, level_view
from apps.inventory.services.moves import (
    Level,
    Moved,
    StockChange,
    StockKey,
    levels_lock,
    stock_move,
)


@dataclass(frozen=True)
class AdjustItem:
    product_id: UUID
    variant_id: UUID | None
    delta: Decimal


@dataclass(frozen=True)
class SetItem:
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal
    expected_quantity: Decimal | None = None


def _refs(items: Sequence[AdjustItem | SetItem]) -> list[ItemRef]:
    return [ItemRef(i.product_id, i.variant_id, f"items.{n}") for n, i in enumerate(items)]


def stock_adjust(
    *, actor, store_id: UUID, reason: str, note: str = "", items: Sequence[AdjustItem]
) -> list[LevelView]:
    """Relative changes with a reason code (DAMAGE, FOUND…), all or nothing. Returns the new
    levels as the stock list shows them."""
    for n, item in enumerate(items):
        if item.delta == 0:
            raise ValidationFailed.for_field(f"items.{n}.delta", "Must not be zero.")
    return _store_change(
        actor=actor,
        store_id=store_id,
        items=items,
        quantities={f"items.{n}": {"delta": i.delta} for n, i in enumerate(items)},
        changes=[
            StockChange(
                StockKey(store_id, i.product_id, i.variant_id), delta=i.delta, field=f"items.{n}"
            )
            for n, i in enumerate(items)
        ],
        movement_type=MovementType.ADJUSTMENT,
        action="stock.adjust",
        reason=reason,
        note=note,
    )


def stock_set(
    *, actor, store_id: UUID, note: str = "", items: Sequence[SetItem]
) -> list[LevelView]:
    """Absolute quantities (a count): records the difference as a SET movement. An item with
    `expected_quantity` is a compare-and-set: if the level no longer holds it (a sale happened
    since the count was read), 409 STOCK_CHANGED and nothing changes."""
    for n, item in enumerate(items):
        if item.quantity < 0:
            raise ValidationFailed.for_field(f"items.{n}.quantity", "Must not be negative.")
    return _store_change(
        actor=actor,
        store_id=store_id,
        items=items,
        quantities={f"items.{n}": {"quantity": i.quantity} for n, i in enumerate(items)},
        changes=[
            StockChange(
                StockKey(store_id, i.product_id, i.variant_id),
                quantity=i.quantity,
                expected=i.expected_quantity,
                field=f"items.{n}",
            )
            for n, i in enumerate(items)
        ],
        movement_type=MovementType.SET,
        action="stock.set",
        note=note,
        allow_negative=True,  # a set is never below zero; it may leave a negative level
    )


def _store_change(
    *,
    actor,
    store_id: UUID,
    items: Sequence[AdjustItem | SetItem],
    quantities: dict[str, dict[str, Decimal]],
    changes: Sequence[StockChange],
    movement_type: str,
    action: str,
    reason: str = "",
    note: str = "",
    allow_negative: bool | None = None,
) -> list[LevelView]:
    """Check, move, audit — for changes at one location; the new levels in request order."""
    settings = company_stock_settings(tenant=getattr(actor, "tenant", None))
    with transaction.atomic():
        names, catalog = items_check(
            _refs(items), quantities=quantities, stores={store_id: "storeId"}
        )
        moved = stock_move(
            actor_id=actor.pk,
            changes=changes,
            movement_type=movement_type,
            reason=reason,
            note=note,
            allow_negative=allow_negative,
            settings=settings,
            # the audit row goes out with the movements: one round trip fewer
            also_insert=lambda moved: [
                _levels_audit(actor, action, store_id, moved, reason=reason, note=note)
            ],
        )
    default = Decimal(settings.default_low_stock_threshold)
    return [
        level_view(m.level, catalog[change.field], names[store_id], default)
        for m, change in zip(moved, changes, strict=True)
    ]


def _levels_audit(
    actor, action: str, store_id: UUID, changed: Iterable[Moved], **facts: str
) -> AuditLog:
    """The unsaved audit row of the levels that moved (none moved: no row, stock_move asks not)."""
    return audit_entry(
        action=action,
        entity_type="store",
        entity_id=store_id,
        actor=actor,
        after={
            **{k: v for k, v in facts.items() if v},
            "items": [
                {
                    "productId": str(m.level.product_id),
                    "variantId": str(m.level.variant_id) if m.level.variant_id else None,
                    "delta": quantity_text(m.delta),
                    "quantity": quantity_text(m.level.quantity),
                }
                for m in changed
            ],
        },
    )


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else quantity_text(value)


def stock_threshold_set(
    *, actor, store_id: UUID, product_id: UUID, variant_id: UUID | None, threshold: Decimal | None
) -> Level:
    """The level's low-stock threshold (None: the company default). Creates the level (at zero,
    no movement: the quantity does not change) when the location never held the item."""
    if threshold is not None and threshold < 0:
        raise ValidationFailed.for_field("threshold", "Must not be negative.")
    with transaction.atomic():
        items_check(
            [ItemRef(product_id, variant_id, "item")],
            quantities={"item": {"threshold": threshold}} if threshold is not None else {},
            stores={store_id: "storeId"},
        )
        key = StockKey(store_id, product_id, variant_id)
        level = levels_lock([key])[key]
        before = level.low_stock_threshold
        if before != threshold:
            level.low_stock_threshold, level.updated_at = threshold, timezone.now()
            StockLevel.objects.filter(pk=level.id).update(
                low_stock_threshold=threshold, updated_at=level.updated_at
            )
            audit_record(
                action="stock.threshold",
                entity_type="store",
                entity_id=store_id,
                actor=actor,
                before={"lowStockThreshold": _text_or_none(before)},
                after={
                    "productId": str(product_id),
                    "variantId": str(variant_id) if variant_id else None,
                    "lowStockThreshold": _text_or_none(threshold),
                },
            )
    return level
