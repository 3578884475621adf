"""Transfers between locations: PENDING -> IN_TRANSIT (stock leaves) -> COMPLETED (what arrived
enters), or CANCELLED (shipped stock goes back)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.catalog.models import Product
from apps.core.db import document_number_next
from apps.core.documents import (
    Lifecycle,
    Taking,
    Transition,
    Wanted,
    document_transition,
    lines_take,
    status_refusal,
)
from apps.core.errors import (
    ValidationFailed,
)
from apps.inventory import events
from apps.inventory.models import (
    MovementType,
    Transfer,
    TransferItem,
    TransferStatus,
)
from apps.inventory.services.items import ItemRef, items_check, whole_units
from apps.inventory.services.moves import StockChange, StockKey, stock_move, store_check


@dataclass(frozen=True)
class TransferLine:
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal


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
    refusal=status_refusal(
        "transfer", {"ship": "shipped", "receive": "received", "cancel": "cancelled"}
    ),
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
            whole_units(ref, quantities)


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
