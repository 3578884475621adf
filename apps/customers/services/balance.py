"""The balance ledger: what a customer owes or holds as store credit. The typed entry points the
sales module calls (charge, pay, credit issued and used, refund, void) and a manual adjustment,
all through `_balance_post`; the credit limit and the store credit held are checked on the locked
row."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from apps.core.errors import BusinessRuleViolation, ErrorCode
from apps.core.money import validate_money
from apps.customers.models import Customer, CustomerLedgerEntry, LedgerType
from apps.customers.services.common import BALANCE, Reference, ledger_post, text


def _balance_post(
    *,
    actor,
    customer_id: UUID,
    type: LedgerType,
    amount: Decimal,
    check=None,
    reference: Reference | None = None,
    note: str = "",
) -> CustomerLedgerEntry:
    """Adds `amount` (signed) to what the customer owes, with its ledger row."""
    return ledger_post(
        BALANCE,
        actor=actor,
        customer_id=customer_id,
        type=type,
        change=amount,
        check=check,
        reference=reference,
        note=note,
    )


def _credit_limit_check(amount: Decimal):
    def check(customer: Customer) -> None:
        available = customer.credit_limit - customer.balance
        if amount > available:
            raise BusinessRuleViolation(
                f"The credit limit is {customer.credit_limit} and the customer owes "
                f"{customer.balance}: at most {max(available, Decimal('0.00'))} can go on account.",
                code=ErrorCode.CREDIT_LIMIT_EXCEEDED,
                details=[
                    {
                        "field": "amount",
                        "message": f"Available credit is {max(available, Decimal('0.00'))}.",
                    }
                ],
            )

    return check


def customer_charge(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """A credit sale: the customer owes `amount` more, within their credit limit (422
    CREDIT_LIMIT_EXCEEDED otherwise, nothing written)."""
    amount = validate_money(amount, field="amount", positive=True)
    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.CREDIT_SALE,
        amount=amount,
        check=_credit_limit_check(amount),
        reference=reference,
        note=note,
    )


def customer_pay(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """The customer pays what they owe: never more than the balance (422 AMOUNT_EXCEEDS_DUE;
    money kept for later is store credit, issued explicitly)."""
    amount = validate_money(amount, field="amount", positive=True)

    def check(customer: Customer) -> None:
        if amount > customer.balance:
            due = max(customer.balance, Decimal("0.00"))
            raise BusinessRuleViolation(
                f"The customer owes {due}: a payment cannot exceed it.",
                code=ErrorCode.AMOUNT_EXCEEDS_DUE,
                details=[{"field": "amount", "message": f"At most {due}."}],
            )

    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.PAYMENT,
        amount=-amount,
        check=check,
        reference=reference,
        note=note,
    )


def customer_credit_issue(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """Store credit given to the customer (a refund to credit, a goodwill gesture)."""
    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.STORE_CREDIT_ISSUED,
        amount=-validate_money(amount, field="amount", positive=True),
        reference=reference,
        note=note,
    )


def customer_credit_use(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """The customer spends store credit: never more than they hold (422 INSUFFICIENT_CREDIT)."""
    amount = validate_money(amount, field="amount", positive=True)

    def check(customer: Customer) -> None:
        held = max(-customer.balance, Decimal("0.00"))
        if amount > held:
            raise BusinessRuleViolation(
                f"The customer holds {held} of store credit.",
                code=ErrorCode.INSUFFICIENT_CREDIT,
                details=[{"field": "amount", "message": f"At most {held}."}],
            )

    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.STORE_CREDIT_USED,
        amount=amount,
        check=check,
        reference=reference,
        note=note,
    )


def customer_refund(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """A returned credit sale: the customer owes `amount` less."""
    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.REFUND,
        amount=-validate_money(amount, field="amount", positive=True),
        reference=reference,
        note=note,
    )


def customer_void(
    *, actor, customer_id: UUID, amount: Decimal, reference: Reference | None = None, note=""
) -> CustomerLedgerEntry:
    """A voided credit sale: its charge is taken back."""
    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.VOID,
        amount=-validate_money(amount, field="amount", positive=True),
        reference=reference,
        note=note,
    )


def customer_balance_adjust(
    *, actor, customer_id: UUID, amount: Decimal, reason: str
) -> CustomerLedgerEntry:
    """Opening balances and corrections (managers): signed, no limit check, a reason required."""
    return _balance_post(
        actor=actor,
        customer_id=customer_id,
        type=LedgerType.ADJUSTMENT,
        amount=validate_money(amount, field="amount", signed=True),
        note=text(reason, "reason", required=True),
    )
