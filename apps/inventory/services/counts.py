"""Stock counts: open one per location, record counted quantities, finalize (the differences
become COUNT movements) or cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog.models import Product, ProductVariant
from apps.core.db import document_number_next, insert_or_conflict
from apps.core.documents import (
    Lifecycle,
    Transition,
    document_transition,
    status_refusal,
)
from apps.core.errors import (
    Conflict,
)
from apps.core.serializers import quantity_text
from apps.inventory.models import (
    CountScope,
    CountStatus,
    MovementType,
    StockCount,
    StockCountLine,
    StockLevel,
)
from apps.inventory.selectors import company_stock_settings
from apps.inventory.services.items import ItemRef, items_check
from apps.inventory.services.moves import (
    StockChange,
    StockKey,
    levels_lock,
    stock_move,
    store_check,
)


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
    refusal=status_refusal(
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
        levels = levels_lock(keys)
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
                for key, level in levels_lock(others).items():
                    if level.quantity != 0:
                        lines.append(
                            StockCountLine(
                                count=count,
                                product_id=key.product_id,
                                variant_id=key.variant_id,
                                expected_quantity=level.quantity,
                                counted_quantity=Decimal(0),
                                counted_at=now,
                                counted_by=actor.pk,
                            )
                        )
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
            variants.get(line.variant_id)
            if variants.get(line.variant_id) is not None
            else products[line.product_id]
        )
        for line in lines
    }


def count_cancel(*, actor, count_id: UUID) -> StockCount:
    """Closes an open count without touching stock."""
    with transaction.atomic():
        count = COUNT.lock(count_id, "cancel")
        document_transition(
            COUNT, count, action="cancel", actor=actor, stamps=("cancelled_at", "cancelled_by")
        )
    return count
