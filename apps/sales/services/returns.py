"""Returns against a sale's items: the refund, its methods, points taken back."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.catalog.models import Product
from apps.catalog.validation import whole_units_check
from apps.core.db import (
    document_number_next,
)
from apps.core.documents import (
    Taking,
    Wanted,
    document_transition,
    lines_take,
)
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
    ValidationFailed,
)
from apps.core.serializers import quantity_text
from apps.core.validation import validate_text
from apps.customers import services as customers
from apps.customers.models import Customer
from apps.sales import drawer, events, pricing
from apps.sales.models import (
    Payment,
    PaymentKind,
    PaymentMethod,
    Sale,
    SaleItem,
    SaleReturn,
    SaleReturnItem,
    SaleStatus,
)
from apps.sales.services.common import SALE, ZERO, company_settings, net_by_method, stock_back
from apps.stores.models import Store


# --- returns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnLine:
    item_id: UUID
    quantity: Decimal
    restock: bool = True


def _part(quantity: Decimal) -> bool:
    return quantity != quantity.to_integral_value()


def _fractions(items: Iterable[SaleItem]) -> dict[UUID, bool | None]:
    """Whether each sold product's unit allows fractions now (asked only for a part returned)."""
    return dict(
        Product.objects.filter(pk__in={item.product_id for item in items}).values_list(
            "pk", "unit__allows_fraction"
        )
    )


def _returning(fractions: dict[UUID, bool | None]) -> Taking[SaleItem]:
    """A return's quantities against the sale's items: whole units unless the product's unit
    allows fractions now or the line was sold in parts (its unit changed since)."""
    return Taking(
        remaining=lambda item: item.quantity - item.returned_quantity,
        not_a_line="Not an item of this sale.",
        too_little=lambda item: "Must be more than 0.",
        too_much=lambda item, left: f"At most {quantity_text(left)} can be returned.",
        refusal=lambda over: BusinessRuleViolation(
            "More than was sold (minus earlier returns) cannot be returned.",
            code=ErrorCode.RETURN_EXCEEDS_SOLD,
            details=over,
        ),
        unit_check=lambda field, item, quantity: whole_units_check(
            field=field,
            quantity=quantity,
            allows_fraction=fractions.get(item.product_id) or _part(item.quantity),
        ),
    )


def _refunded(item: SaleItem, returned: Decimal) -> Decimal:
    """What the returns of `returned` units of `item` refund in total (see pricing)."""
    return pricing.line_refund(pricing.SoldLine(item.quantity, item.line_total, ZERO), returned)


def sale_return(
    *, actor, sale_id: UUID, items: Sequence[ReturnLine], refund_method: str, reason: str
) -> SaleReturn:
    """Takes back items of a sale (see docs/design/sales.md, *Returns*): never more than sold minus
    already returned (422 RETURN_EXCEEDS_SOLD); the refund is the returned share of the stored
    line amounts and of the cash rounding; it first reduces what the customer still owes for
    the sale, then goes back by `refund_method` — cash never beyond the cash the sale kept, the
    rest to store credit (a customer's sale) or to the sale's other methods. Points earned on
    the returned share are taken back; those the customer no longer holds are taken from the
    refund at the program's point value."""
    reason = validate_text(reason, field="reason")
    if not items:
        raise ValidationFailed.for_field("items", "At least one item is required.")
    settings = company_settings(actor)
    with transaction.atomic():
        sale = SALE.lock(sale_id, "return")
        sold = {item.pk: item for item in sale.items.select_for_update().order_by("pk")}
        # the shift before the stock (the lock order); required below once the cash is known
        shift_id = drawer.till_shift_id(actor=actor, store_id=sale.store_id, required=False)
        if refund_method == PaymentMethod.STORE_CREDIT and sale.customer_id is None:
            raise ValidationFailed.for_field("refundMethod", "Store credit needs a customer.")
        fractions = _fractions(sold.values()) if any(_part(line.quantity) for line in items) else {}
        wanted = [Wanted(line.item_id, line.quantity) for line in items]
        picked = lines_take(sold, wanted, _returning(fractions))
        taken = [(item, line) for (item, _), line in zip(picked, items, strict=True)]
        lines_total = sum((item.line_total for item in sold.values()), ZERO)
        refunded_before = sum((_refunded(i, i.returned_quantity) for i in sold.values()), ZERO)
        returning = [
            (
                pricing.SoldLine(
                    item.quantity, item.line_total, item.returned_quantity, item.tax_amount
                ),
                line.quantity,
            )
            for item, line in taken
        ]
        refunds = [pricing.line_refund(sold_line, quantity) for sold_line, quantity in returning]
        refund_taxes = [
            pricing.line_refund_tax(sold_line, quantity) for sold_line, quantity in returning
        ]
        lines_now = sum(refunds, ZERO)
        refund = lines_now + pricing.rounding_refund(
            sale.rounding_adjustment, lines_total, refunded_before, lines_now
        )
        # locks in the order every sale writer takes them: stock levels, then the customer
        stock_back(
            sale,
            [(item, line.quantity) for item, line in taken if line.restock],
            "RETURN",
            actor=actor,
        )
        earlier = list(sale.returns.all())
        points = _points_to_reverse(sale, lines_total, refunded_before + lines_now, earlier)
        held = _points_held(sale.customer_id)
        shortfall = max(points - held, 0)
        refund -= min(refund, pricing.cents(shortfall * settings.loyalty_point_value))
        outstanding = sale.due_amount - sale.due_paid - sale.due_returned
        to_due = min(refund, max(outstanding, ZERO))
        sequence = document_number_next(series=f"return:{sale.store_id}")
        store_code = Store.objects.filter(pk=sale.store_id).values_list("code", flat=True)[0]
        sale_return_row = SaleReturn.objects.create(
            number=f"RET-{store_code}-{sequence:06d}",
            sequence=sequence,
            sale=sale,
            store_id=sale.store_id,
            refund_method=refund_method,
            refund_total=refund,
            currency=sale.currency,
            prices_include_tax=sale.prices_include_tax,
            applied_to_due=to_due,
            points_reversed=points - shortfall,
            reason=reason,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        SaleReturnItem.objects.bulk_create(
            SaleReturnItem(
                sale_return=sale_return_row,
                sale_item=item,
                quantity=line.quantity,
                refund_amount=amount,
                tax_amount=tax,
                restock=line.restock,
            )
            for (item, line), amount, tax in zip(taken, refunds, refund_taxes, strict=True)
        )
        for item, line in taken:
            item.returned_quantity += line.quantity
            item.save(update_fields=["returned_quantity"])
        cash_out = _refund_money(
            sale, sale_return_row, refund - to_due, refund_method, shift_id=shift_id, actor=actor
        )
        if cash_out and shift_id is None and settings.require_open_shift:
            raise drawer.shift_required()  # rolls back everything above
        if sale.customer_id is not None:
            kwargs = {
                "actor": actor,
                "customer_id": sale.customer_id,
                "reference": customers.Reference("sale_return", sale_return_row.pk),
                "note": sale_return_row.number,
            }
            if to_due:
                customers.customer_refund(amount=to_due, **kwargs)
            if points - shortfall:
                customers.loyalty_reverse(points=-(points - shortfall), **kwargs)
        fully = all(item.returned_quantity >= item.quantity for item in sold.values())
        document_transition(
            SALE,
            sale,
            action="return",
            actor=actor,
            status=SaleStatus.RETURNED if fully else SaleStatus.PARTIALLY_RETURNED,
            changes={"due_returned": sale.due_returned + to_due},
            facts={
                "return": sale_return_row.number,
                "refund_total": refund,
                "refund_method": refund_method,
                "items": len(taken),
            },
            publish=lambda sale: events.sale_changed(
                "sale.returned", sale, returnId=sale_return_row.pk, refundTotal=refund
            ),
        )
    sale_return_row.sale = sale
    return sale_return_row


def _points_to_reverse(sale: Sale, lines_total, refunded_lines, earlier) -> int:
    """The points earned on everything returned so far, minus those already taken back."""
    if not sale.points_earned or not lines_total:
        return 0
    due = math.floor(sale.points_earned * refunded_lines / lines_total)
    if refunded_lines >= lines_total:
        due = sale.points_earned
    return max(due - sum(r.points_reversed for r in earlier), 0)


def _points_held(customer_id) -> int:
    if customer_id is None:
        return 0
    return (
        Customer.objects.select_for_update()
        .filter(pk=customer_id)
        .values_list("loyalty_points", flat=True)
        .first()
        or 0
    )


def _refund_money(
    sale: Sale,
    sale_return_row: SaleReturn,
    amount: Decimal,
    method: str,
    *,
    shift_id: UUID | None,
    actor,
) -> Decimal:
    """Pays `amount` back: by `method` as far as the sale's payments allow (cash never beyond
    the cash it kept), the rest to store credit for a customer's sale, else to its other
    methods. Returns the cash paid out (logged in the drawer of `shift_id`)."""
    if amount <= 0:
        return ZERO
    kept = net_by_method(sale)
    order = (
        [method]
        + ([PaymentMethod.STORE_CREDIT] if sale.customer_id is not None else [])
        + sorted(m for m in kept if m not in (method, PaymentMethod.STORE_CREDIT))
    )
    parts: list[tuple[str, Decimal]] = []
    left = amount
    for candidate in dict.fromkeys(order):
        if left <= 0:
            break
        room = (
            left
            if candidate == PaymentMethod.STORE_CREDIT
            else max(kept.get(candidate, ZERO), ZERO)
        )
        part = min(left, room)
        if part > 0:
            parts.append((candidate, part))
            left -= part
    if left > 0:  # cannot happen: refunds never exceed what the sale was paid
        raise BusinessRuleViolation("Nothing left to refund to.", code=ErrorCode.INVALID_STATE)
    Payment.objects.bulk_create(
        Payment(
            kind=PaymentKind.REFUND,
            method=m,
            amount=-part,
            currency=sale.currency,
            store_id=sale.store_id,
            sale=sale,
            sale_return=sale_return_row,
            customer_id=sale.customer_id,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        for m, part in parts
    )
    cash = sum((part for m, part in parts if m == PaymentMethod.CASH), ZERO)
    if shift_id is not None and cash:
        drawer.cash_event(
            shift_id=shift_id,
            type=drawer.REFUND,
            amount=-cash,
            reference_type="sale_return",
            reference_id=sale_return_row.pk,
            actor_id=getattr(actor, "pk", None),
        ).save(force_insert=True)
    credit = sum((part for m, part in parts if m == PaymentMethod.STORE_CREDIT), ZERO)
    if credit:
        customers.customer_credit_issue(
            actor=actor,
            customer_id=sale.customer_id,
            amount=credit,
            reference=customers.Reference("sale_return", sale_return_row.pk),
            note=sale_return_row.number,
        )
    return cash
