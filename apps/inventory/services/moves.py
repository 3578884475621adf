"""The one writer of stock: `stock_move` locks the levels in one fixed order, writes one
movement per change and publishes the events on commit; every other module (sales, returns,
purchases, counts, transfers) changes a quantity through it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from apps.core import metrics
from apps.core.db import CompiledInsert, insert_compiled
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    ValidationFailed,
)
from apps.core.serializers import quantity_text
from apps.inventory import events
from apps.inventory.selectors import company_stock_settings

ZERO = Decimal("0")
MAX_ITEMS = 100


@dataclass(frozen=True)
class StockKey:
    store_id: UUID
    product_id: UUID
    variant_id: UUID | None = None

    def order(self) -> tuple[int, int, int]:
        """PostgreSQL's order of (store_id, product_id, variant_id NULLS FIRST)."""
        return (
            self.store_id.int,
            self.product_id.int,
            -1 if self.variant_id is None else self.variant_id.int,
        )


@dataclass(frozen=True)
class StockChange:
    """A change of one level: by `delta`, or to `quantity` (then `delta` is what it takes).
    `expected` makes it a compare-and-set: 409 STOCK_CHANGED unless the level holds exactly that."""

    key: StockKey
    delta: Decimal | None = None
    quantity: Decimal | None = None
    expected: Decimal | None = None
    field: str = ""  # where the change came from in the request, for error details


@dataclass
class Level:
    """A stock level as read under its row lock."""

    id: UUID
    store_id: UUID
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal
    low_stock_threshold: Decimal | None
    updated_at: datetime


def levels_lock(keys: Sequence[StockKey]) -> dict[StockKey, Level]:
    """The levels of `keys`, created when missing, locked FOR UPDATE in one global order — in
    one round trip (two statements).

    Every caller first inserts its missing levels (in key order; an insert that meets another
    transaction's uncommitted insert of the same level waits for it), then locks all its levels
    in (store, product, variant) order. A transaction waiting for a row lock has finished its
    inserts, and one waiting on an insert holds no row lock yet: no wait cycle, no deadlock. The
    SELECT is a statement of its own, so it sees a level another transaction created while the
    INSERT waited for it."""
    ordered = sorted(set(keys), key=StockKey.order)
    now = timezone.now()
    inserts = ", ".join(["(gen_random_uuid(), %s::uuid, %s::uuid, %s::uuid, 0, %s)"] * len(ordered))
    wanted = ", ".join(["(%s::uuid, %s::uuid, %s::uuid)"] * len(ordered))
    params: list[Any] = []
    for key in ordered:
        params += [key.store_id, key.product_id, key.variant_id, now]
    for key in ordered:
        params += [key.store_id, key.product_id, key.variant_id]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stocklevel"  # noqa: S608  (placeholders only)
            " (id, store_id, product_id, variant_id, quantity, updated_at)"
            f" VALUES {inserts} ON CONFLICT DO NOTHING;"
            " SELECT l.id, l.store_id, l.product_id, l.variant_id, l.quantity,"
            "        l.low_stock_threshold, l.updated_at"
            f" FROM inventory_stocklevel l JOIN (VALUES {wanted})"
            " k (store_id, product_id, variant_id)"
            " ON l.store_id = k.store_id AND l.product_id = k.product_id"
            " AND l.variant_id IS NOT DISTINCT FROM k.variant_id"
            " ORDER BY l.store_id, l.product_id, l.variant_id NULLS FIRST FOR UPDATE OF l",
            params,
        )
        cursor.nextset()
        levels = [Level(*row) for row in cursor.fetchall()]
    return {StockKey(lv.store_id, lv.product_id, lv.variant_id): lv for lv in levels}


@dataclass
class Moved:
    level: Level
    before: Decimal
    delta: Decimal


def stock_move(
    *,
    actor_id: UUID | None,
    changes: Sequence[StockChange],
    movement_type: str,
    reason: str = "",
    note: str = "",
    reference_type: str = "",
    reference_id: UUID | None = None,
    allow_negative: bool | None = None,
    settings=None,
    also_insert: Callable[[list[Moved]], Sequence[models.Model]] | None = None,
) -> list[Moved]:
    """Applies `changes` atomically (all or nothing) and returns them in the given order.

    Refusals change nothing: a compare-and-set that no longer holds → 409 STOCK_CHANGED; a
    level that would go below zero → 422 INSUFFICIENT_STOCK listing every such item (unless
    the company allows negative stock, or `allow_negative` says so for this call). A change
    of zero writes nothing. `settings`: the company's, when the caller has them already.
    `also_insert(moved)`: new rows written with the movements (the caller's audit row), given
    the changes that moved something; not called when nothing moved.
    Three round trips: lock (with the inserts), write (levels, movements and `also_insert`'s
    rows), and the caller's commit."""
    keys = [change.key for change in changes]
    if len(set(keys)) != len(keys):
        raise ValueError("stock_move: one change per level")
    settings = settings or company_stock_settings()
    if allow_negative is None:
        allow_negative = settings.allow_negative_stock
    if not keys:
        return []
    # No savepoint when nested (two round trips fewer): a refusal leaves the caller's
    # transaction unusable, so callers let it propagate rather than catch it and go on.
    with transaction.atomic(savepoint=False):
        levels = levels_lock(keys)
        moved: list[Moved] = []
        changed_under_us, short = [], []
        for change in changes:
            level = levels[change.key]
            before = level.quantity
            if change.expected is not None and before != change.expected:
                changed_under_us.append(_detail(change, available=before))
            delta = change.delta if change.quantity is None else change.quantity - before
            if before + delta < 0 and delta < 0 and not allow_negative:
                short.append(_detail(change, available=before, requested=-delta))
            moved.append(Moved(level=level, before=before, delta=delta))
        if changed_under_us:
            raise Conflict(
                "The stock changed since it was read; nothing was changed.",
                code=ErrorCode.STOCK_CHANGED,
                details=changed_under_us,
            )
        if short:
            raise BusinessRuleViolation(
                "Not enough stock; nothing was changed.",
                code=ErrorCode.INSUFFICIENT_STOCK,
                details=short,
            )
        effective = [m for m in moved if m.delta != 0]
        if effective:
            now = timezone.now()
            for m in effective:
                m.level.quantity = m.before + m.delta
                m.level.updated_at = now
            _write(
                effective,
                now,
                movement_type,
                reason,
                note,
                reference_type,
                reference_id,
                actor_id,
                also=insert_compiled(also_insert(effective)) if also_insert is not None else None,
            )
            metrics.stock_moved(movement_type, len(effective))
            default = Decimal(settings.default_low_stock_threshold)
            for m in effective:
                events.stock_changed(level=m.level, before=m.before, default_threshold=default)
    return moved


def _write(
    moved: Sequence[Moved],
    now: datetime,
    movement_type: str,
    reason: str,
    note: str,
    reference_type: str,
    reference_id: UUID | None,
    actor_id: UUID | None,
    also: CompiledInsert | None = None,
) -> None:
    """The new quantities, one movement per change and `also`'s rows, in one round trip."""
    updates = ", ".join(["(%s::uuid, %s::numeric)"] * len(moved))
    movements = ", ".join(
        ["(gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(moved)
    )
    params: list[Any] = [now]
    for m in moved:
        params += [m.level.id, m.level.quantity]
    for m in moved:
        params += [
            m.level.store_id,
            m.level.product_id,
            m.level.variant_id,
            movement_type,
            m.delta,
            m.level.quantity,
            reason,
            note,
            reference_type,
            reference_id,
            actor_id,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel l SET quantity = v.quantity, updated_at = %s"  # noqa: S608  (placeholders only)
            f" FROM (VALUES {updates}) v (id, quantity) WHERE l.id = v.id;"
            " INSERT INTO inventory_stockmovement (id, store_id, product_id, variant_id, type,"
            " delta, quantity_after, reason, note, reference_type, reference_id, user_id,"
            f" created_at) VALUES {movements}" + (f";\n{also.sql}" if also and also.sql else ""),
            params + (also.params if also else []),
        )
    if also is not None:
        also.sent()


def _detail(change: StockChange, **values: Decimal) -> dict:
    detail: dict[str, Any] = {
        "field": change.field,
        "message": "Not enough stock." if "requested" in values else "The quantity changed.",
        "storeId": str(change.key.store_id),
        "productId": str(change.key.product_id),
        "variantId": str(change.key.variant_id) if change.key.variant_id else None,
    }
    detail.update({name: quantity_text(value) for name, value in values.items()})
    return detail


def store_check(*, store_id: UUID, field: str = "storeId") -> None:
    """`store_id` is a live location of this company, share-locked until the transaction ends
    (it cannot be deleted while stock moves in or out); 400 when unknown."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM stores_store WHERE id = %s AND deleted_at IS NULL FOR SHARE",
            [store_id],
        )
        if cursor.fetchone() is None:
            raise ValidationFailed.for_field(field, "Unknown store.")
