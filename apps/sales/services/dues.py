"""Collecting what customers owe on their sales (oldest first, or the sales named)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import F

from apps.core.errors import (
    ValidationFailed,
)
from apps.customers import services as customers
from apps.sales import drawer, events, pricing
from apps.sales.models import (
    DueAllocation,
    Payment,
    PaymentKind,
    PaymentMethod,
    Sale,
)
from apps.sales.services.checkout import till_store_read
from apps.sales.services.common import company_settings


# --- collecting dues ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueSettled:
    sale: Sale
    paid: Decimal  # by this payment
    remaining: Decimal  # still due on the sale after it


@dataclass
class DueCollection:
    payment: Payment
    settled: list[DueSettled]
    balance: Decimal  # what the customer owes after it


def due_collect(
    *,
    actor,
    customer_id: UUID,
    amount: Decimal,
    method: str,
    reference: str = "",
    store_id: UUID | None = None,
) -> DueCollection:
    """A customer pays what they owe: never more than their balance (422 AMOUNT_EXCEEDS_DUE);
    it settles their oldest due sales first (what is left of it pays the rest of the balance,
    e.g. an opening balance). The payment is booked at `store_id`, else at the store of the
    oldest sale it settles; a cashier collects only in their stores (403). Its audit row is
    the customer's (`customer.balance.payment`, referencing the payment)."""
    if method == PaymentMethod.STORE_CREDIT:
        raise ValidationFailed.for_field("method", "Dues are paid with money, not store credit.")
    amount = pricing.cents(amount)
    with transaction.atomic():
        # the due sales first, then the customer: the order returns and voids lock them in
        dues = list(
            Sale.objects.select_for_update(of=("self",))
            .filter(customer_id=customer_id, due_amount__gt=F("due_paid") + F("due_returned"))
            .order_by("created_at", "id")
        )
        payment_id = uuid.uuid4()
        entry = customers.customer_pay(  # locks the customer; refuses more than the balance
            actor=actor,
            customer_id=customer_id,
            amount=amount,
            reference=customers.Reference("payment", payment_id),
            note=reference,
        )
        if store_id is None:
            if not dues:
                raise ValidationFailed.for_field("storeId", "Name the store that takes it.")
            store_id = dues[0].store_id
        shift_id = till_store_read(store_id, actor=actor).shift_id
        settings = company_settings(actor)
        if method == PaymentMethod.CASH and shift_id is None and settings.require_open_shift:
            raise drawer.shift_required()
        payment = Payment.objects.create(
            id=payment_id,
            kind=PaymentKind.DUE,
            method=method,
            amount=amount,
            currency=settings.currency,
            reference=reference,
            store_id=store_id,
            customer_id=customer_id,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        if shift_id is not None and method == PaymentMethod.CASH:
            drawer.cash_event(
                shift_id=shift_id,
                type=drawer.DUE_PAYMENT,
                amount=amount,
                reference_type="payment",
                reference_id=payment.pk,
                actor_id=getattr(actor, "pk", None),
            ).save(force_insert=True)
        settled, left = [], amount
        for sale in dues:
            if left <= 0:
                break
            paid = min(left, sale.due_amount - sale.due_paid - sale.due_returned)
            sale.due_paid += paid
            sale.save(update_fields=["due_paid", "updated_at"])
            DueAllocation.objects.create(payment=payment, sale=sale, amount=paid)
            remaining = sale.due_amount - sale.due_paid - sale.due_returned
            settled.append(DueSettled(sale=sale, paid=paid, remaining=remaining))
            left -= paid
        events.payment_received(payment)
    return DueCollection(payment=payment, settled=settled, balance=entry.balance_after)
