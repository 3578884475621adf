"""Writes for suppliers and purchase orders.

Locks, in one order for every writer here: the purchase order, then the products and variants
whose cost a receipt changes (by id), then the stock levels (the inventory's one writer), then
the supplier. A receipt and a payment of the same order wait for each other; two receipts of the
same product average their costs one after the other.

Weighted-average cost (4 places, half up): when `q` units arrive at unit cost `c` and the
company holds `h` units (all locations) at cost `a`, the new cost is (h*a + q*c) / (h + q); with
h <= 0 (nothing on hand, or stock sold before it was received) it is `c`. A receipt's value is
the line's value received so far minus what earlier receipts counted (each to the cent), so the
receipts of a fully received line add up exactly to its total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog import services as catalog
from apps.catalog.validation import whole_units_check
from apps.core.db import (
    UNSET,
    Unset,
    document_number_next,
    live_name_taken,
    row_create,
    row_lock,
    row_soft_delete,
    row_update,
    rows_insert,
    sent,
    snapshot,
    values_update,
)
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
from apps.core.money import cents, cost_places, validate_money
from apps.core.phones import phone_normalise
from apps.inventory.models import StockLevel
from apps.inventory.services import ItemRef, StockChange, StockKey, items_check, stock_move
from apps.purchasing import events
from apps.purchasing.models import (
    PaymentMethod,
    PurchaseOrder,
    PurchaseOrderItem,
    PurchaseReceipt,
    PurchaseReceiptItem,
    PurchaseStatus,
    Supplier,
    SupplierPayment,
)
from apps.tenants.selectors import company_currency, tenant_settings_cached

ZERO = Decimal("0.00")
MAX_ITEMS = 500
MAX_MONEY = Decimal("1e11")
SUPPLIER_FIELDS = (
    "name",
    "contact_name",
    "email",
    "phone",
    "tax_id",
    "address",
    "payment_terms_days",
    "notes",
)


def weighted_cost(*, on_hand: Decimal, cost: Decimal, received: Decimal, unit_cost: Decimal):
    """The new average cost (see the module's docstring)."""
    if on_hand <= 0:
        return cost_places(unit_cost)
    return cost_places((on_hand * cost + received * unit_cost) / (on_hand + received))


# --- suppliers ------------------------------------------------------------------------------------
def _supplier_conflict() -> Conflict:
    return Conflict(
        "A supplier with this name already exists.",
        details=[{"field": "name", "message": "Already in use."}],
    )


def _supplier_clean(changes: dict[str, Any]) -> dict[str, Any]:
    for field in SUPPLIER_FIELDS:
        if field in changes and isinstance(changes[field], str):
            changes[field] = changes[field].strip()
    if "name" in changes and not changes["name"]:
        raise ValidationFailed.for_field("name", "This field may not be blank.")
    if "phone" in changes:  # E.164, read in the company's country, as customers' phones
        changes["phone"] = phone_normalise(
            changes["phone"], country=tenant_settings_cached(tenant=connection.tenant).country
        )
    if changes.get("payment_terms_days") is not None and changes["payment_terms_days"] > 365:
        raise ValidationFailed.for_field("paymentTermsDays", "At most 365 days.")
    return changes


def _supplier_name_taken(name: str, *, supplier_id: UUID | None = None) -> bool:
    return live_name_taken(Supplier.objects.alive(), name, exclude_pk=supplier_id)


def supplier_create(
    *,
    actor,
    name: str,
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    tax_id: str = "",
    address: str = "",
    payment_terms_days: int | None = None,
    notes: str = "",
) -> Supplier:
    fields = _supplier_clean(
        {
            "name": name,
            "contact_name": contact_name,
            "email": email,
            "phone": phone,
            "tax_id": tax_id,
            "address": address,
            "payment_terms_days": payment_terms_days,
            "notes": notes,
        }
    )
    if _supplier_name_taken(fields["name"]):
        raise _supplier_conflict()
    supplier = Supplier(**fields)
    return row_create(
        supplier,
        conflict=_supplier_conflict(),
        actor=actor,
        action="supplier.create",
        entity_type="supplier",
        after=snapshot(supplier, SUPPLIER_FIELDS),
    )


def supplier_update(
    *,
    actor,
    supplier_id: UUID,
    name: str | Unset = UNSET,
    contact_name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    tax_id: str | Unset = UNSET,
    address: str | Unset = UNSET,
    payment_terms_days: int | Unset | None = UNSET,
    notes: str | Unset = UNSET,
) -> Supplier:
    changes = _supplier_clean(
        sent(
            name=name,
            contact_name=contact_name,
            email=email,
            phone=phone,
            tax_id=tax_id,
            address=address,
            payment_terms_days=payment_terms_days,
            notes=notes,
        )
    )
    if "name" in changes and _supplier_name_taken(changes["name"], supplier_id=supplier_id):
        raise _supplier_conflict()
    return row_update(
        lock=lambda: row_lock(Supplier.objects.alive(), supplier_id),
        changes=changes,
        actor=actor,
        action="supplier.update",
        entity_type="supplier",
        conflict=_supplier_conflict(),
    )


def supplier_delete(*, actor, supplier_id: UUID) -> Supplier:
    """Soft delete, refused while the supplier has open orders (422 IN_USE) or a balance (422
    BALANCE_NOT_ZERO)."""

    def guard(supplier: Supplier) -> None:
        open_orders = PurchaseOrder.objects.filter(
            supplier=supplier,
            status__in=[PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED],
        )
        if open_orders.exists():
            raise BusinessRuleViolation(
                "The supplier has open purchase orders: receive or cancel them first.",
                code=ErrorCode.IN_USE,
            )
        if supplier.balance != 0:
            raise BusinessRuleViolation(
                f"The balance with this supplier is {supplier.balance}: settle it first.",
                code=ErrorCode.BALANCE_NOT_ZERO,
            )

    return row_soft_delete(
        lock=lambda: row_lock(Supplier.objects.alive(), supplier_id),
        actor=actor,
        action="supplier.delete",
        entity_type="supplier",
        guard=guard,
    )


# --- purchase orders ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderLine:
    product_id: UUID
    variant_id: UUID | None
    quantity: Decimal
    unit_cost: Decimal


def purchase_create(
    *,
    actor,
    supplier_id: UUID,
    store_id: UUID,
    items: Sequence[OrderLine],
    expected_at: date | None = None,
    note: str = "",
) -> PurchaseOrder:
    """An order to a live supplier for a live location of the company (store or warehouse):
    each line a stocked product (a variant named when it has variants), quantity > 0 (whole
    unless the unit allows fractions), unit cost >= 0 to 4 places. Numbered PO-000001."""
    for n, line in enumerate(items):
        if line.quantity <= 0:
            raise ValidationFailed.for_field(f"items.{n}.quantity", "Must be greater than zero.")
        if line.unit_cost < 0 or line.unit_cost != cost_places(line.unit_cost):
            raise ValidationFailed.for_field(
                f"items.{n}.unitCost", "Zero or more, at most 4 decimal places."
            )
    with transaction.atomic():
        if not Supplier.objects.alive().filter(pk=supplier_id).exists():
            raise ValidationFailed.for_field("supplierId", "Unknown supplier.")
        items_check(
            [
                ItemRef(line.product_id, line.variant_id, f"items.{n}")
                for n, line in enumerate(items)
            ],
            quantities={f"items.{n}": {"quantity": line.quantity} for n, line in enumerate(items)},
            stores={store_id: "storeId"},
            max_items=MAX_ITEMS,
        )
        lines = [
            PurchaseOrderItem(
                position=n,
                product_id=line.product_id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                line_total=cents(line.quantity * line.unit_cost),
            )
            for n, line in enumerate(items)
        ]
        total = sum((line.line_total for line in lines), ZERO)
        if total >= MAX_MONEY:
            raise ValidationFailed.for_field("items", "The order's total is too large.")
        sequence = document_number_next(series="purchase")
        order = PurchaseOrder.objects.create(
            number=f"PO-{sequence:06d}",
            sequence=sequence,
            supplier_id=supplier_id,
            store_id=store_id,
            expected_at=expected_at,
            note=(note or "").strip(),
            total=total,
            currency=company_currency(),
            created_by=getattr(actor, "pk", None),
        )
        for line in lines:
            line.order = order
        PurchaseOrderItem.objects.bulk_create(lines)
        audit_record(
            action="purchase.create",
            entity_type="purchase_order",
            entity_id=order.pk,
            actor=actor,
            after={
                "number": order.number,
                "supplier_id": supplier_id,
                "store_id": store_id,
                "total": total,
                "items": len(lines),
            },
        )
    return order


def _order_refusal(order: PurchaseOrder, action: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"A {order.status.lower().replace('_', ' ')} order cannot be {action}d"
        if action != "pay"
        else f"A {order.status.lower()} order takes no payments.",
        code=ErrorCode.INVALID_STATE,
        details=[{"field": "status", "message": order.status}],
    )


_OPEN = frozenset({PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED})
# the status a receipt or a cancel ends in depends on what was received: the service says
PURCHASE = Lifecycle(
    model=PurchaseOrder,
    entity_type="purchase_order",
    audit_name="purchase",
    not_found="Purchase order not found.",
    transitions={
        "receive": Transition(_OPEN),
        "cancel": Transition(_OPEN),
        "pay": Transition(_OPEN | {PurchaseStatus.RECEIVED}),  # the status stays
    },
    refusal=_order_refusal,
)


def _supplier_move(supplier_id: UUID, amount: Decimal) -> Supplier:
    supplier = Supplier.objects.select_for_update().get(pk=supplier_id)
    supplier.balance += amount
    supplier.save(update_fields=["balance", "updated_at"])
    return supplier


@dataclass(frozen=True)
class ReceiveLine:
    item_id: UUID
    quantity: Decimal


def purchase_receive(
    *, actor, order_id: UUID, items: Sequence[ReceiveLine], note: str = ""
) -> PurchaseReceipt:
    """Goods arrive: never more than what remains of a line (422 RECEIVE_EXCEEDS_ORDERED, every
    such line listed, nothing changed); the stock comes in (PURCHASE movements referencing the
    order); the cost of each product or variant becomes the weighted average; the supplier's
    balance grows by the receipt's value."""
    if not items:
        raise ValidationFailed.for_field("items", "At least one item is required.")
    if len(items) > MAX_ITEMS:
        raise ValidationFailed.for_field("items", f"At most {MAX_ITEMS} items per receipt.")
    with transaction.atomic():
        order = PURCHASE.lock(order_id, "receive")
        lines = {
            line.pk: line
            for line in PurchaseOrderItem.objects.filter(order=order)
            .select_related("product__unit")
            .order_by("position")
        }
        wanted = [Wanted(item.item_id, item.quantity) for item in items]
        taken = lines_take(lines, wanted, _RECEIVING)
        costs = catalog.product_costs_lock(
            items=[(line.product_id, line.variant_id) for line, _ in taken]
        )
        on_hand = _on_hand([(line.product_id, line.variant_id) for line, _ in taken])
        stock_move(
            actor_id=getattr(actor, "pk", None),
            changes=_stock_changes(order.store_id, taken),
            movement_type="PURCHASE",
            reference_type="purchase",
            reference_id=order.pk,
            allow_negative=True,
        )
        receipt = PurchaseReceipt(
            order=order,
            supplier_id=order.supplier_id,
            note=(note or "").strip(),
            received_by=getattr(actor, "pk", None),
            value=ZERO,
        )
        receipt_items = []
        for line, quantity in taken:
            key = (line.product_id, line.variant_id)
            value = cents((line.received_quantity + quantity) * line.unit_cost) - cents(
                line.received_quantity * line.unit_cost
            )
            before = costs[key]
            held = on_hand.get(key, Decimal("0"))
            after = weighted_cost(
                on_hand=held, cost=before, received=quantity, unit_cost=line.unit_cost
            )
            receipt_items.append(
                PurchaseReceiptItem(
                    receipt=receipt,
                    item=line,
                    quantity=quantity,
                    unit_cost=line.unit_cost,
                    value=value,
                    on_hand_before=held,
                    cost_before=before,
                    cost_after=after,
                )
            )
            costs[key], on_hand[key] = after, held + quantity  # a later line of the same item
            line.received_quantity += quantity
            receipt.value += value
        rows_insert([receipt], receipt_items)  # one round trip
        values_update(
            "purchasing_purchaseorderitem",
            "received_quantity",
            [(line.pk, line.received_quantity) for line, _ in taken],
        )
        catalog.product_costs_set(costs=costs)
        done = all(line.received_quantity >= line.quantity for line in lines.values())
        status = PurchaseStatus.RECEIVED if done else PurchaseStatus.PARTIALLY_RECEIVED
        document_transition(
            PURCHASE,
            order,
            action="receive",
            actor=actor,
            status=status,
            changes={"received_total": order.received_total + receipt.value},
            # the trail has always recorded the receipt (no status before)
            audit=(
                None,
                {
                    "status": status,
                    "receipt_id": receipt.pk,
                    "value": receipt.value,
                    "items": len(taken),
                },
            ),
            publish=lambda order: events.purchase_received(order, receipt),
        )
        _supplier_move(order.supplier_id, receipt.value)
    return receipt


def _whole_units(field: str, line: PurchaseOrderItem, quantity: Decimal) -> None:
    unit = line.product.unit
    whole_units_check(
        field=field, quantity=quantity, allows_fraction=unit is not None and unit.allows_fraction
    )


# a receipt against an order's lines: never more than what remains of a line
_RECEIVING = Taking(
    remaining=lambda line: line.quantity - line.received_quantity,
    not_a_line="Not a line of this order.",
    too_little=lambda line: "Must be greater than zero.",
    too_much=lambda line, left: f"At most {left}.",
    refusal=lambda over: BusinessRuleViolation(
        "More than what remains of the order cannot be received; nothing was received.",
        code=ErrorCode.RECEIVE_EXCEEDS_ORDERED,
        details=over,
    ),
    unit_check=_whole_units,
)


def _stock_changes(store_id: UUID, taken) -> list[StockChange]:
    quantities: dict[StockKey, Decimal] = {}
    for line, quantity in taken:
        key = StockKey(store_id, line.product_id, line.variant_id)
        quantities[key] = quantities.get(key, Decimal("0")) + quantity
    return [StockChange(key=key, delta=quantity) for key, quantity in quantities.items()]


def _on_hand(keys: list[tuple]) -> dict[tuple, Decimal]:
    """What the company holds of each (product, variant), all locations together."""
    product_ids = {product_id for product_id, _ in keys}
    held: dict[tuple, Decimal] = {}
    for product_id, variant_id, total in (
        StockLevel.objects.filter(product_id__in=product_ids)
        .values_list("product_id", "variant_id")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "variant_id", "total")
    ):
        held[(product_id, variant_id)] = total
    return held


def purchase_pay(
    *,
    actor,
    order_id: UUID,
    amount: Decimal,
    method: str,
    reference: str = "",
    paid_at: datetime | None = None,
) -> SupplierPayment:
    """A payment to the supplier against the order: never more than what is still due (422
    AMOUNT_EXCEEDS_DUE) — it may come before the goods; the order's paid total and the
    supplier's balance move in the same transaction."""
    validate_money(amount, field="amount", positive=True)
    if method not in PaymentMethod.values:
        raise ValidationFailed.for_field("method", "Unknown payment method.")
    with transaction.atomic():
        order = PURCHASE.lock(order_id, "pay")
        if amount > order.due_amount:
            raise BusinessRuleViolation(
                f"{order.due_amount} is due on this order.",
                code=ErrorCode.AMOUNT_EXCEEDS_DUE,
                details=[{"field": "amount", "message": f"At most {order.due_amount}."}],
            )
        payment = SupplierPayment.objects.create(
            supplier_id=order.supplier_id,
            order=order,
            amount=amount,
            currency=order.currency,
            method=method,
            reference=(reference or "").strip(),
            paid_at=paid_at or timezone.now(),
            created_by=getattr(actor, "pk", None),
        )
        order.paid_total += amount
        order.save(update_fields=["paid_total", "updated_at"])
        _supplier_move(order.supplier_id, -amount)
        audit_record(
            action="purchase.payment",
            entity_type="purchase_order",
            entity_id=order.pk,
            actor=actor,
            after={"amount": amount, "method": method, "paid_total": order.paid_total},
        )
    return payment


def purchase_cancel(*, actor, order_id: UUID) -> PurchaseOrder:
    """Nothing received: CANCELLED. Part received: the rest is closed — the order ends RECEIVED
    with the shortfall on its lines and only what was received payable (refused while more was
    paid than received: 422 INVALID_STATE)."""
    with transaction.atomic():
        order = PURCHASE.lock(order_id, "cancel")
        if order.status == PurchaseStatus.ORDERED:
            if order.paid_total:
                raise BusinessRuleViolation(
                    f"{order.paid_total} was paid on this order: it cannot be cancelled.",
                    code=ErrorCode.INVALID_STATE,
                )
            status, closed_short = PurchaseStatus.CANCELLED, order.closed_short
        else:
            if order.paid_total > order.received_total:
                raise BusinessRuleViolation(
                    "More was paid than received: the order cannot be closed short.",
                    code=ErrorCode.INVALID_STATE,
                )
            status, closed_short = PurchaseStatus.RECEIVED, True
        document_transition(
            PURCHASE,
            order,
            action="cancel",
            actor=actor,
            status=status,
            changes={"closed_short": closed_short},
            facts={"closed_short": closed_short},
        )
    return order
