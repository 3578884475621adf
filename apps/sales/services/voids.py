"""Voiding a completed sale: everything it moved comes back."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.documents import (
    document_transition,
)
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
)
from apps.core.validation import validate_text
from apps.customers import services as customers
from apps.sales import drawer, events
from apps.sales.models import (
    Payment,
    PaymentKind,
    PaymentMethod,
    Sale,
)
from apps.sales.services.common import SALE, ZERO, company_settings, net_by_method, stock_back


def sale_void(*, actor, sale_id: UUID, reason: str) -> Sale:
    """Cancels a completed sale with no returns, inside the company's void window (422
    VOID_WINDOW_PASSED): the stock comes back (VOID movements), every payment is given back by
    its method, the customer's account, store credit and points are restored exactly. Refused
    (422) once a due of the sale was collected, or when the customer no longer holds the
    points the sale earned."""
    reason = validate_text(reason, field="reason")
    settings = company_settings(actor)
    with transaction.atomic():
        sale = SALE.lock(sale_id, "void")
        now = timezone.now()
        if now - sale.created_at > timedelta(hours=settings.void_window_hours):
            raise BusinessRuleViolation(
                f"Sales can be voided within {settings.void_window_hours} hours.",
                code=ErrorCode.VOID_WINDOW_PASSED,
            )
        if sale.due_paid:
            raise BusinessRuleViolation(
                "Payments were collected against this sale's due: return it instead.",
                code=ErrorCode.INVALID_STATE,
            )
        net = net_by_method(sale)
        cash_back = net.get(PaymentMethod.CASH, ZERO)
        shift_id = drawer.till_shift_id(
            actor=actor,
            store_id=sale.store_id,
            required=settings.require_open_shift and cash_back != 0,
        )
        items = list(sale.items.order_by("position"))
        stock_back(sale, [(item, item.quantity) for item in items], "VOID", actor=actor)
        money_back = [
            Payment(
                kind=PaymentKind.VOID,
                method=method,
                amount=-amount,
                currency=sale.currency,
                store_id=sale.store_id,
                sale=sale,
                customer_id=sale.customer_id,
                created_by=getattr(actor, "pk", None),
                shift_id=shift_id,
            )
            for method, amount in sorted(net.items())
            if amount
        ]
        Payment.objects.bulk_create(money_back)
        if shift_id is not None and cash_back:
            drawer.cash_event(
                shift_id=shift_id,
                type=drawer.VOID,
                amount=-cash_back,
                reference_type="sale",
                reference_id=sale.pk,
                actor_id=getattr(actor, "pk", None),
            ).save(force_insert=True)
        if sale.customer_id is not None:
            kwargs = {
                "actor": actor,
                "customer_id": sale.customer_id,
                "reference": customers.Reference("sale", sale.pk),
                "note": f"Void of {sale.number}",
            }
            credit = sum(
                (p.amount for p in money_back if p.method == PaymentMethod.STORE_CREDIT), ZERO
            )
            if credit:
                customers.customer_credit_issue(amount=-credit, **kwargs)
            if sale.due_amount:
                customers.customer_void(amount=sale.due_amount, **kwargs)
            if sale.points_earned:
                customers.loyalty_reverse(points=-sale.points_earned, **kwargs)
            if sale.points_redeemed:
                customers.loyalty_reverse(points=sale.points_redeemed, **kwargs)
        document_transition(
            SALE,
            sale,
            action="void",
            actor=actor,
            changes={
                "voided_at": now,
                "voided_by": getattr(actor, "pk", None),
                "void_reason": reason,
                "void_shift_id": shift_id,
            },
            facts={"reason": reason},
            publish=lambda sale: events.sale_changed("sale.voided", sale),
        )
    return sale
