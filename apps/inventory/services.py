"""Stock writes. `stock_move` is the one function that changes a quantity, for this module and
every later one (sales, returns, purchases, counts): it locks the levels in one fixed order,
writes one movement per change and publishes the events on commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog.models import Product, ProductVariant
from apps.catalog.selectors import (
    CATALOGUE_ITEMS_SQL,
    catalogue_item_identity_check,
    catalogue_items_fetch,
    catalogue_items_params,
)
from apps.catalog.validation import whole_units_check
from apps.core import metrics
from apps.core.db import document_number_next, insert_or_conflict
from apps.core.documents import (
    Lifecycle,
    Taking,
    Transition,
    Wanted,
    document_transition,
    lines_take,
)
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    ValidationFailed,
)
from apps.core.money import cents
from apps.core.serializers import quantity_text
from apps.inventory import events
from apps.inventory.models import (
    CountScope,
    CountStatus,
    MovementType,
    StockCount,
    StockCountLine,
    StockLevel,
    Transfer,
    TransferItem,
    TransferStatus,
)
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


def _levels_lock(keys: Sequence[StockKey]) -> dict[StockKey, Level]:
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
) -> list[Moved]:
    """Applies `changes` atomically (all or nothing) and returns them in the given order.

    Refusals change nothing: a compare-and-set that no longer holds → 409 STOCK_CHANGED; a
    level that would go below zero → 422 INSUFFICIENT_STOCK listing every such item (unless
    the company allows negative stock, or `allow_negative` says so for this call). A change
    of zero writes nothing. `settings`: the company's, when the caller has them already.
    Three round trips: lock (with the inserts), write (levels and movements), and the caller's
    commit."""
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
        levels = _levels_lock(keys)
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
                effective, now, movement_type, reason, note, reference_type, reference_id, actor_id
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
) -> None:
    """The new quantities and one movement per change, in one round trip (two statements)."""
    updates = ", ".join(["(%s::uuid, %s::numeric)"] * len(moved))
    movements = ", ".join(
        ["(gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(moved)
    )
    params: list[Any] = [now]
    for m in moved:
        params += [m.level.id, m.level.quantity]
    for m in moved:
        params += [
            m.level.store_id, m.level.product_id, m.level.variant_id, movement_type, m.delta,
            m.level.quantity, reason, note, reference_type, reference_id, actor_id, now,
        ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel l SET quantity = v.quantity, updated_at = %s"  # noqa: S608  (placeholders only)
            f" FROM (VALUES {updates}) v (id, quantity) WHERE l.id = v.id;"
            " INSERT INTO inventory_stockmovement (id, store_id, product_id, variant_id, type,"
            " delta, quantity_after, reason, note, reference_type, reference_id, user_id,"
            f" created_at) VALUES {movements}",
            params,
        )


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


# --- request items: locations, products, variants, units -----------------------------------------
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
            _whole_units(ref, quantities)
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


# --- manual adjustments ---------------------------------------------------------------------------
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
        )
        _audit_levels(actor, action, store_id, moved, reason=reason, note=note)
    default = Decimal(settings.default_low_stock_threshold)
    return [
        level_view(m.level, catalog[change.field], names[store_id], default)
        for m, change in zip(moved, changes, strict=True)
    ]


def _audit_levels(actor, action: str, store_id: UUID, moved: Iterable[Moved], **facts: str) -> None:
    changed = [m for m in moved if m.delta != 0]
    if not changed:
        return  # a write that changes nothing writes nothing
    audit_record(
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
        level = _levels_lock([key])[key]
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


# --- transfers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferLine:
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal


def _refusal(name: str, verbs: dict[str, str]):
    """422 INVALID_STATE: "A CANCELLED transfer cannot be shipped.", the status in its details."""

    def refusal(document, action: str) -> BusinessRuleViolation:
        return BusinessRuleViolation(
            f"A {document.status} {name} cannot be {verbs[action]}.",
            code=ErrorCode.INVALID_STATE,
            details=[
                {"field": "status", "message": f"Is {document.status}.", "status": document.status}
            ],
        )

    return refusal


TRANSFER = Lifecycle(
    model=Transfer,
    entity_type="transfer",
    not_found="Transfer not found.",
    transitions={
        "ship": Transition(frozenset({TransferStatus.PENDING}), TransferStatus.IN_TRANSIT),
        "receive": Transition(frozenset({TransferStatus.IN_TRANSIT}), TransferStatus.COMPLETED),
        "cancel": Transition(
            frozenset({TransferStatus.PENDING, TransferStatus.IN_TRANSIT}),
            TransferStatus.CANCELLED,
        ),
    },
    refusal=_refusal("transfer", {"ship": "shipped", "receive": "received", "cancel": "cancelled"}),
)


def transfer_create(
    *,
    actor,
    from_store_id: UUID,
    to_store_id: UUID,
    note: str = "",
    items: Sequence[TransferLine],
) -> Transfer:
    if from_store_id == to_store_id:
        raise ValidationFailed.for_field("toStoreId", "Must differ from fromStoreId.")
    for n, item in enumerate(items):
        if item.quantity <= 0:
            raise ValidationFailed.for_field(f"items.{n}.quantity", "Must be greater than zero.")
    with transaction.atomic():
        items_check(
            [ItemRef(i.product_id, i.variant_id, f"items.{n}") for n, i in enumerate(items)],
            quantities={f"items.{n}": {"quantity": i.quantity} for n, i in enumerate(items)},
            stores={from_store_id: "fromStoreId", to_store_id: "toStoreId"},
        )
        transfer = Transfer.objects.create(
            number=document_number_next(series="transfer"),
            from_store_id=from_store_id,
            to_store_id=to_store_id,
            note=note,
            created_by=actor.pk,
        )
        TransferItem.objects.bulk_create(
            [
                TransferItem(
                    transfer=transfer,
                    product_id=i.product_id,
                    variant_id=i.variant_id,
                    position=n,
                    quantity=i.quantity,
                )
                for n, i in enumerate(items)
            ]
        )
        audit_record(
            action="transfer.create",
            entity_type="transfer",
            entity_id=transfer.pk,
            actor=actor,
            after={
                "number": transfer.number,
                "fromStoreId": str(from_store_id),
                "toStoreId": str(to_store_id),
                "items": len(items),
            },
        )
        events.transfer_changed(transfer)
    return transfer


def _transition(actor, transfer: Transfer, action: str, *stamps: str) -> None:
    document_transition(
        TRANSFER,
        transfer,
        action=action,
        actor=actor,
        stamps=stamps,
        publish=events.transfer_changed,
    )


def _lines(transfer: Transfer) -> list[TransferItem]:
    return list(transfer.items.order_by("position"))


def _transfer_move(
    actor,
    transfer: Transfer,
    store_id: UUID,
    lines: Sequence[TransferItem],
    deltas: dict[UUID, Decimal],
    movement_type: str,
) -> None:
    """Moves each line's delta (by line id; zero moves nothing) at `store_id`, referencing the
    transfer."""
    stock_move(
        actor_id=actor.pk,
        changes=[
            StockChange(
                StockKey(store_id, line.product_id, line.variant_id),
                delta=deltas[line.pk],
                field=f"items.{n}",
            )
            for n, line in enumerate(lines)
            if deltas[line.pk] != 0
        ],
        movement_type=movement_type,
        reference_type="TRANSFER",
        reference_id=transfer.pk,
    )


def transfer_ship(*, actor, transfer_id: UUID) -> Transfer:
    """PENDING → IN_TRANSIT: the stock leaves the source (TRANSFER_OUT)."""
    with transaction.atomic():
        transfer = TRANSFER.lock(transfer_id, "ship")
        store_check(store_id=transfer.from_store_id, field="fromStoreId")
        store_check(store_id=transfer.to_store_id, field="toStoreId")
        lines = _lines(transfer)
        shipped = {line.pk: -line.quantity for line in lines}
        _transfer_move(
            actor, transfer, transfer.from_store_id, lines, shipped, MovementType.TRANSFER_OUT
        )
        _transition(actor, transfer, "ship", "shipped_at", "shipped_by")
    return transfer


@dataclass(frozen=True)
class ReceivedLine:
    item_id: UUID
    quantity: Decimal


def transfer_receive(
    *, actor, transfer_id: UUID, items: Sequence[ReceivedLine] | None = None
) -> Transfer:
    """IN_TRANSIT → COMPLETED: what arrived enters the destination (TRANSFER_IN). `items` gives
    the received quantity of some lines (0 to the shipped quantity); unlisted lines arrived in
    full. A shortfall stays on the line (received < quantity); those units are not put back."""
    with transaction.atomic():
        transfer = TRANSFER.lock(transfer_id, "receive")
        store_check(store_id=transfer.to_store_id, field="toStoreId")
        lines = _lines(transfer)
        received = {line.pk: line.quantity for line in lines}  # unlisted lines arrived in full
        wanted = [Wanted(item.item_id, item.quantity) for item in items or []]
        for line, quantity in lines_take({line.pk: line for line in lines}, wanted, _ARRIVING):
            received[line.pk] = quantity
        refs = [
            ItemRef(line.product_id, line.variant_id, f"items.{n}") for n, line in enumerate(lines)
        ]
        quantities = {f"items.{n}": {"quantity": received[line.pk]} for n, line in enumerate(lines)}
        _whole_quantities(refs, quantities)
        _transfer_move(
            actor, transfer, transfer.to_store_id, lines, received, MovementType.TRANSFER_IN
        )
        for line in lines:
            line.received_quantity = received[line.pk]
        TransferItem.objects.bulk_update(lines, ["received_quantity"])
        _transition(actor, transfer, "receive", "received_at", "received_by")
    return transfer


def _shipped(line: TransferItem, *_: Any) -> str:
    return f"Must be between 0 and the shipped {line.quantity}."


# what arrived of a shipped line: 0 (lost on the way) up to what was shipped
_ARRIVING = Taking(
    remaining=lambda line: line.quantity,
    not_a_line="Not an item of this transfer.",
    too_little=_shipped,
    too_much=_shipped,
    refusal=lambda over: ValidationFailed(over[0]["message"], details=over),
    zero_allowed=True,
)


def _whole_quantities(refs: Sequence[ItemRef], quantities: dict[str, dict[str, Decimal]]) -> None:
    """Whole units where the product's unit allows no fractions (receiving a part of a line)."""
    fractions = dict(
        Product.objects.filter(pk__in={r.product_id for r in refs}).values_list(
            "pk", "unit__allows_fraction"
        )
    )
    for ref in refs:
        if not fractions.get(ref.product_id):
            _whole_units(ref, quantities)


def _whole_units(ref: ItemRef, quantities: dict[str, dict[str, Decimal]]) -> None:
    """400 for the first of the item's quantities that is not a whole number."""
    for name, value in quantities.get(ref.field, {}).items():
        whole_units_check(field=f"{ref.field}.{name}", quantity=value, allows_fraction=False)


def transfer_cancel(*, actor, transfer_id: UUID) -> Transfer:
    """From PENDING nothing moves; from IN_TRANSIT the shipped stock returns to the source
    (TRANSFER_CANCEL)."""
    with transaction.atomic():
        transfer = TRANSFER.lock(transfer_id, "cancel")
        if transfer.status == TransferStatus.IN_TRANSIT:
            store_check(store_id=transfer.from_store_id, field="fromStoreId")
            lines = _lines(transfer)
            back = {line.pk: line.quantity for line in lines}
            _transfer_move(
                actor, transfer, transfer.from_store_id, lines, back, MovementType.TRANSFER_CANCEL
            )
        _transition(actor, transfer, "cancel", "cancelled_at", "cancelled_by")
    return transfer


# --- stock counts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountedItem:
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal


def count_start(*, actor, store_id: UUID, scope: str, note: str = "") -> StockCount:
    """Opens a count of one location (one open count per location: 409)."""
    conflict = Conflict(
        "This location already has an open count.",
        details=[{"field": "storeId", "message": "Finalize or cancel its open count first."}],
    )
    with transaction.atomic():
        store_check(store_id=store_id)
        if StockCount.objects.filter(store_id=store_id, status=CountStatus.OPEN).exists():
            raise conflict
        count = StockCount(
            number=document_number_next(series="count"),
            store_id=store_id,
            scope=scope,
            note=note,
            created_by=actor.pk,
        )
        insert_or_conflict(count, conflict=conflict)  # a concurrent start lost the race
        audit_record(
            action="count.start",
            entity_type="stock_count",
            entity_id=count.pk,
            actor=actor,
            after={"number": count.number, "storeId": str(store_id), "scope": scope},
        )
    return count


COUNT = Lifecycle(
    model=StockCount,
    entity_type="stock_count",
    audit_name="count",
    not_found="Count not found.",
    transitions={
        "submit": Transition(frozenset({CountStatus.OPEN})),  # stays open
        "finalize": Transition(frozenset({CountStatus.OPEN}), CountStatus.FINALIZED),
        "cancel": Transition(frozenset({CountStatus.OPEN}), CountStatus.CANCELLED),
    },
    refusal=_refusal(
        "count", {"submit": "counted", "finalize": "finalized", "cancel": "cancelled"}
    ),
)


def count_submit(*, actor, count_id: UUID, items: Sequence[CountedItem]) -> StockCount:
    """Records counted quantities (several times, by several people: a later count of the same
    item replaces the earlier one). Each line keeps the books' quantity read — under the level's
    lock, after any sale in flight — when it was counted."""
    with transaction.atomic():
        count = COUNT.lock(count_id, "submit")
        refs = [ItemRef(i.product_id, i.variant_id, f"items.{n}") for n, i in enumerate(items)]
        items_check(
            refs,
            quantities={f"items.{n}": {"quantity": i.quantity} for n, i in enumerate(items)},
            stores={count.store_id: "storeId"},
        )
        keys = [StockKey(count.store_id, i.product_id, i.variant_id) for i in items]
        levels = _levels_lock(keys)
        existing = {(line.product_id, line.variant_id): line for line in count.lines.all()}
        now = timezone.now()
        new, changed = [], []
        for item, key in zip(items, keys, strict=True):
            line = existing.get((item.product_id, item.variant_id))
            if line is None:
                line = StockCountLine(
                    count=count, product_id=item.product_id, variant_id=item.variant_id
                )
                new.append(line)
            else:
                changed.append(line)
            line.expected_quantity = levels[key].quantity
            line.counted_quantity = item.quantity
            line.counted_at, line.counted_by = now, actor.pk
        StockCountLine.objects.bulk_create(new)
        if changed:
            StockCountLine.objects.bulk_update(
                changed, ["expected_quantity", "counted_quantity", "counted_at", "counted_by"]
            )
        StockCount.objects.filter(pk=count.pk).update(updated_at=now)
        audit_record(
            action="count.submit",
            entity_type="stock_count",
            entity_id=count.pk,
            actor=actor,
            after={
                "items": [
                    {
                        "productId": str(i.product_id),
                        "variantId": str(i.variant_id) if i.variant_id else None,
                        "quantity": quantity_text(i.quantity),
                    }
                    for i in items
                ]
            },
        )
    return count


def count_finalize(*, actor, count_id: UUID) -> StockCount:
    """Applies every line's counted - expected to its level as it is now (one COUNT movement per
    difference), so sales made since a line was counted stay on the books. A FULL count first
    adds every other non-zero level of the location as counted zero."""
    with transaction.atomic():
        count = COUNT.lock(count_id, "finalize")
        lines = list(count.lines.all())
        now = timezone.now()
        if count.scope == CountScope.FULL:
            counted = {(line.product_id, line.variant_id) for line in lines}
            others = [
                StockKey(count.store_id, product_id, variant_id)
                for product_id, variant_id in StockLevel.objects.filter(store_id=count.store_id)
                .exclude(quantity=0)
                .values_list("product_id", "variant_id")
                if (product_id, variant_id) not in counted
            ]
            if others:
                for key, level in _levels_lock(others).items():
                    if level.quantity != 0:
                        lines.append(
                            StockCountLine(
                                count=count, product_id=key.product_id, variant_id=key.variant_id,
                                expected_quantity=level.quantity, counted_quantity=Decimal(0),
                                counted_at=now, counted_by=actor.pk,
                            )
                        )  # fmt: skip
                StockCountLine.objects.bulk_create([line for line in lines if line._state.adding])
        costs = _unit_costs(lines)
        for line in lines:
            line.applied_delta = line.counted_quantity - line.expected_quantity
            line.unit_cost = costs[(line.product_id, line.variant_id)]
        stock_move(
            actor_id=actor.pk,
            changes=[
                StockChange(
                    StockKey(count.store_id, line.product_id, line.variant_id),
                    delta=line.applied_delta,
                    field=f"lines.{n}",
                )
                for n, line in enumerate(lines)
                if line.applied_delta != 0
            ],
            movement_type=MovementType.COUNT,
            reference_type="COUNT",
            reference_id=count.pk,
            allow_negative=True,  # the shelf is what it is; sales since may have gone further
            settings=company_stock_settings(tenant=getattr(actor, "tenant", None)),
        )
        StockCountLine.objects.bulk_update(lines, ["applied_delta", "unit_cost"])
        document_transition(
            COUNT,
            count,
            action="finalize",
            actor=actor,
            stamps=("finalized_at", "finalized_by"),
            facts={
                "lines": len(lines),
                "differences": sum(1 for line in lines if line.applied_delta != 0),
            },
        )
    return count


def _unit_costs(lines: Sequence[StockCountLine]) -> dict[tuple, Decimal]:
    products = dict(
        Product.objects.filter(pk__in={line.product_id for line in lines}).values_list(
            "pk", "cost_price"
        )
    )
    variants = dict(
        ProductVariant.objects.filter(
            pk__in={line.variant_id for line in lines if line.variant_id}
        ).values_list("pk", "cost")
    )
    return {
        (line.product_id, line.variant_id): (
            variants.get(line.variant_id) if variants.get(line.variant_id) is not None
            else products[line.product_id]
        )
        for line in lines
    }  # fmt: skip


def count_cancel(*, actor, count_id: UUID) -> StockCount:
    """Closes an open count without touching stock."""
    with transaction.atomic():
        count = COUNT.lock(count_id, "cancel")
        document_transition(
            COUNT, count, action="cancel", actor=actor, stamps=("cancelled_at", "cancelled_by")
        )
    return count
