"""Writes for customers, customer groups, the balance ledger and loyalty points.

Two totals live on the customer row — `balance` (what the customer owes) and `loyalty_points` —
and each has exactly one writer here (`_balance_post`, `_points_post`): it locks the customer
row, checks the rule of the change (credit limit, store credit held, points held) on the locked
values, moves the total and appends the ledger row in one statement, and audits, all in one
transaction. So a total always equals the sum of its ledger, and twenty parallel charges against
one credit limit are decided one after another on the current balance.

The typed entry points the sales module calls (`customer_charge`, `customer_pay`,
`customer_credit_issue`/`_use`, `customer_refund`, `customer_void`, `loyalty_earn`/`_redeem`/
`_reverse`) take positive amounts; the ledger stores the signed change."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.db import (
    UNSET,
    Unset,
    advisory_locks,
    document_number_next,
    insert_or_conflict,
    live_name_taken,
    qualified_table,
    row_create,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
)
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.money import CENT, MAX_MONEY, validate_money
from apps.core.phones import phone_normalise
from apps.core.roles import Role
from apps.core.validation import validate_range, validate_text
from apps.customers.events import customer_changed, customer_totals_changed
from apps.customers.models import (
    Customer,
    CustomerGroup,
    CustomerLedgerEntry,
    LedgerType,
    LoyaltyEntry,
    LoyaltyType,
)
from apps.tenants.selectors import tenant_settings_cached

CUSTOMER_FIELDS = (
    "code", "name", "email", "phone", "tax_id", "address", "notes", "group_id", "credit_limit",
)  # fmt: skip
GROUP_FIELDS = ("name", "discount_percent")
# Fields only managers and admins may change (a cashier sending another value: 403).
MANAGED_FIELDS = {"group_id": "groupId", "credit_limit": "creditLimit"}
MAX_POINTS = 1_000_000_000


@dataclass(frozen=True)
class Reference:
    """The document behind a ledger row (a sale, a payment, a return…)."""

    type: str
    id: UUID


# --- validation -----------------------------------------------------------------------------------
def _text(value: str, field: str, *, required: bool = False) -> str:
    return validate_text(value, field=field, required=required)


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Trims and checks the customer fields present in `changes`."""
    if "name" in changes:
        changes["name"] = _text(changes["name"], "name", required=True)
    if "email" in changes:
        changes["email"] = _text(changes["email"], "email")
        if changes["email"]:
            try:
                validate_email(changes["email"])
            except DjangoValidationError:
                raise ValidationFailed.for_field("email", "Enter a valid email address.") from None
    if "phone" in changes:
        # stored in E.164, read in the company's country: one customer however it is typed
        changes["phone"] = phone_normalise(
            _text(changes["phone"], "phone"),
            country=tenant_settings_cached(tenant=connection.tenant).country,
        )
    for field in ("tax_id", "address", "notes"):
        if field in changes:
            changes[field] = _text(changes[field], field)
    if "credit_limit" in changes:
        validate_range(changes["credit_limit"], field="creditLimit", low=0, high=MAX_MONEY - CENT)
    return changes


def _points(points: int, field: str = "points", *, signed: bool = False) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValidationFailed.for_field(field, "Must be a whole number.")
    if points == 0 or (points < 0 and not signed):
        raise ValidationFailed.for_field(
            field, "Must not be zero." if signed else "Must be greater than zero."
        )
    if abs(points) > MAX_POINTS:
        raise ValidationFailed.for_field(field, "Too large.")
    return points


def _is_manager(actor) -> bool:
    return actor is None or getattr(actor, "role", None) in (Role.ADMIN, Role.MANAGER)


def _require_manager(actor) -> None:
    """Groups set discounts: a pricing decision, kept from cashiers like the credit limit."""
    if not _is_manager(actor):
        raise PermissionDenied("Only managers and admins may manage customer groups.")


def _guard_managed_fields(actor, pending: dict[str, Any]) -> None:
    """A cashier may create and edit customers, but not give credit or a group discount."""
    if _is_manager(actor):
        return
    refused = [name for field, name in MANAGED_FIELDS.items() if field in pending]
    if refused:
        raise PermissionDenied(
            "Only managers and admins may change a customer's credit limit or group.",
            details=[{"field": name, "message": "Managers and admins only."} for name in refused],
        )


# --- uniqueness of contacts -----------------------------------------------------------------------
def _contacts_lock_and_check(*, email: str | None, phone: str | None, customer_id=None) -> None:
    """Serialises writers of the same email / phone in this company (advisory locks), then
    refuses one a live customer already has (409 naming the field)."""
    schema = connection.schema_name
    keys = []
    if email:
        keys.append(f"customer:{schema}:email:{email.lower()}")
    if phone:
        keys.append(f"customer:{schema}:phone:{phone}")
    advisory_locks(keys)
    others = Customer.objects.alive()
    if customer_id is not None:
        others = others.exclude(pk=customer_id)
    taken = []
    if email and others.annotate(key=Lower("email")).filter(key=email.lower()).exists():
        taken.append("email")
    if phone and others.filter(phone=phone).exists():
        taken.append("phone")
    if taken:
        raise _contact_conflict(taken)


def _contact_conflict(fields: list[str]) -> Conflict:
    return Conflict(
        f"Another customer already has this {' and '.join(fields)}.",
        details=[{"field": field, "message": "Already in use."} for field in fields],
    )


def _group_referenced(group_id: UUID | None) -> None:
    """`group_id` names a live group, share-locked until the transaction ends (a concurrent
    delete of the group waits, and a delete that won makes this a 400)."""
    if group_id is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {qualified_table('customers_customergroup')}"  # noqa: S608
            " WHERE id = %s AND deleted_at IS NULL FOR SHARE",
            [group_id],
        )
        if cursor.fetchone() is None:
            raise ValidationFailed.for_field("groupId", "Unknown customer group.")


# --- customers ------------------------------------------------------------------------------------
def customer_code(number: int) -> str:
    return f"C-{number:06d}"


def customer_create(
    *,
    actor,
    name: str,
    email: str = "",
    phone: str = "",
    tax_id: str = "",
    address: str = "",
    notes: str = "",
    group_id: UUID | None = None,
    credit_limit: Decimal = Decimal("0.00"),
) -> Customer:
    fields = _clean(
        {
            "name": name,
            "email": email,
            "phone": phone,
            "tax_id": tax_id,
            "address": address,
            "notes": notes,
            "group_id": group_id,
            "credit_limit": credit_limit,
        }
    )
    _guard_managed_fields(
        actor, {f: v for f, v in fields.items() if f in MANAGED_FIELDS and v not in (None, 0)}
    )
    with transaction.atomic():
        _contacts_lock_and_check(email=fields["email"], phone=fields["phone"])
        _group_referenced(fields["group_id"])
        customer = Customer(code=customer_code(document_number_next(series="customer")), **fields)
        insert_or_conflict(customer, conflict=_contact_conflict(["email", "phone"]))
        audit_record(
            action="customer.create",
            entity_type="customer",
            entity_id=customer.pk,
            actor=actor,
            after=snapshot(customer, CUSTOMER_FIELDS),
        )
        customer_changed("customer.created", customer)
    return customer


def _stored_phone(customer_id: UUID) -> str | None:
    return Customer.objects.alive().filter(pk=customer_id).values_list("phone", flat=True).first()


def customer_update(
    *,
    actor,
    customer_id: UUID,
    name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    tax_id: str | Unset = UNSET,
    address: str | Unset = UNSET,
    notes: str | Unset = UNSET,
    group_id: UUID | Unset | None = UNSET,
    credit_limit: Decimal | Unset = UNSET,
) -> Customer:
    if isinstance(phone, str) and phone and phone == _stored_phone(customer_id):
        # unchanged, as a form re-sends it: a phone kept as typed by migration 0003 (not valid,
        # or another customer's number) must not make every other edit of the customer a 400
        phone = UNSET
    changes = _clean(
        sent(
            name=name,
            email=email,
            phone=phone,
            tax_id=tax_id,
            address=address,
            notes=notes,
            group_id=group_id,
            credit_limit=credit_limit,
        )
    )

    def lock() -> Customer:
        # contacts first (advisory), then the row: the order every customer writer uses
        if changes.get("email") or changes.get("phone"):
            _contacts_lock_and_check(
                email=changes.get("email"), phone=changes.get("phone"), customer_id=customer_id
            )
        return row_lock(Customer.objects.alive(), customer_id)

    def guard(customer: Customer, pending: dict[str, Any]) -> None:
        _guard_managed_fields(actor, pending)
        if "group_id" in pending:
            _group_referenced(pending["group_id"])

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action="customer.update",
        entity_type="customer",
        conflict=_contact_conflict(["email", "phone"]),
        guard=guard,
        on_change=lambda customer, _after: customer_changed("customer.updated", customer),
    )


def customer_delete(*, actor, customer_id: UUID) -> Customer:
    """Soft delete; refused while the customer owes money or holds store credit."""

    def guard(customer: Customer) -> None:
        if customer.balance != 0:
            raise BusinessRuleViolation(
                f"The customer's balance is {customer.balance}: settle it before deleting.",
                code=ErrorCode.BALANCE_NOT_ZERO,
                details=[{"field": "balance", "message": f"Is {customer.balance}, not 0."}],
            )

    return row_soft_delete(
        lock=lambda: row_lock(Customer.objects.alive(), customer_id),
        actor=actor,
        action="customer.delete",
        entity_type="customer",
        guard=guard,
        on_change=lambda customer: customer_changed("customer.deleted", customer),
    )


# --- groups ---------------------------------------------------------------------------------------
def _group_conflict() -> Conflict:
    return Conflict(
        "A customer group with this name already exists.",
        details=[{"field": "name", "message": "Already in use."}],
    )


def _group_clean(changes: dict[str, Any]) -> dict[str, Any]:
    if "name" in changes:
        changes["name"] = _text(changes["name"], "name", required=True)
    if "discount_percent" in changes:
        validate_range(changes["discount_percent"], field="discountPercent", low=0, high=100)
    return changes


def _group_name_taken(name: str, *, group_id=None) -> bool:
    return live_name_taken(CustomerGroup.objects.alive(), name, exclude_pk=group_id)


def customer_group_create(*, actor, name: str, discount_percent: Decimal) -> CustomerGroup:
    _require_manager(actor)
    fields = _group_clean({"name": name, "discount_percent": discount_percent})
    if _group_name_taken(fields["name"]):
        raise _group_conflict()
    group = CustomerGroup(**fields)
    return row_create(
        group,
        conflict=_group_conflict(),
        actor=actor,
        action="customer_group.create",
        entity_type="customer_group",
        after=snapshot(group, GROUP_FIELDS),
    )


def customer_group_update(
    *,
    actor,
    group_id: UUID,
    name: str | Unset = UNSET,
    discount_percent: Decimal | Unset = UNSET,
) -> CustomerGroup:
    _require_manager(actor)
    changes = _group_clean(sent(name=name, discount_percent=discount_percent))
    if "name" in changes and _group_name_taken(changes["name"], group_id=group_id):
        raise _group_conflict()
    return row_update(
        lock=lambda: row_lock(CustomerGroup.objects.alive(), group_id),
        changes=changes,
        actor=actor,
        action="customer_group.update",
        entity_type="customer_group",
        conflict=_group_conflict(),
    )


def customer_group_delete(
    *, actor, group_id: UUID, reassign_to: UUID | Unset | None = UNSET
) -> CustomerGroup:
    """Soft delete. While customers belong to the group it is refused (422 IN_USE) unless
    `reassign_to` names another live group (they move there) or is None (they leave the group).
    Both groups are locked (in id order), so no customer joins the deleted one meanwhile."""
    _require_manager(actor)
    if reassign_to == group_id:
        raise ValidationFailed.for_field("reassignTo", "Must be another group.")

    def lock() -> CustomerGroup:
        ids = [group_id] if not reassign_to else [group_id, reassign_to]
        locked = {
            group.pk: group
            for group in CustomerGroup.objects.alive()
            .filter(pk__in=ids)
            .select_for_update()
            .order_by("pk")
        }
        if group_id not in locked:
            raise NotFound()
        if reassign_to and reassign_to not in locked:
            raise ValidationFailed.for_field("reassignTo", "Unknown customer group.")
        return locked[group_id]

    def members():
        return Customer.objects.alive().filter(group_id=group_id)

    def guard(group: CustomerGroup) -> None:
        if reassign_to is UNSET and members().exists():
            raise BusinessRuleViolation(
                "Customers belong to this group: pass reassignTo (another group or none).",
                code=ErrorCode.IN_USE,
                details=[{"field": "reassignTo", "message": "Required while the group is used."}],
            )

    def facts(group: CustomerGroup) -> dict[str, Any]:
        if reassign_to is UNSET:
            return {}
        moved = members().update(group_id=reassign_to, updated_at=timezone.now())
        return {"reassigned": moved, "reassign_to": reassign_to} if moved else {}

    return row_soft_delete(
        lock=lock,
        actor=actor,
        action="customer_group.delete",
        entity_type="customer_group",
        guard=guard,
        facts=facts,
    )


# --- the two ledgers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Ledger:
    """A running total on the customer row and the append-only table that explains it."""

    total: str  # the customer's column: balance | loyalty_points
    table: str
    model: type
    change: str  # the ledger's signed change: amount | points
    after: str  # the total after it: balance_after | points_after
    audit: str  # the audit action prefix: customer.<audit>.<type>


BALANCE = _Ledger(
    "balance", "customers_customerledgerentry", CustomerLedgerEntry, "amount", "balance_after",
    "balance",
)  # fmt: skip
POINTS = _Ledger(
    "loyalty_points", "customers_loyaltyentry", LoyaltyEntry, "points", "points_after", "loyalty"
)

# One statement: move the total of the locked customer, append the row with the total after it.
_POST_SQL = """
WITH moved AS (
    UPDATE {customers} SET {total} = {total} + %(change)s, updated_at = %(created_at)s
    WHERE id = %(customer)s
    RETURNING id, {total}
)
INSERT INTO {table} (id, customer_id, {change}, {after}, {columns})
SELECT gen_random_uuid(), moved.id, %(change)s, moved.{total}, {values}
FROM moved
RETURNING id, {after}
"""


def _customer_lock(customer_id: UUID) -> Customer:
    """The live customer, read fresh and locked until the transaction ends (404 otherwise)."""
    return row_lock(Customer.objects.alive(), customer_id)


def _ledger_post(
    ledger: _Ledger,
    *,
    actor,
    customer_id: UUID,
    type: str,
    change: Decimal | int,
    check=None,
    reference: Reference | None = None,
    note: str = "",
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
):
    """The one writer of a customer's `ledger.total`: locks the customer, runs
    `check(customer)` on the locked row (raise to refuse: nothing changes), adds `change`
    (signed) to the total and appends the ledger row (with `extra` columns) in one statement,
    audits and announces the change. Returns the new ledger row."""
    fields = {  # the ledger row's columns besides the change and the total after it
        "type": str(type),
        "reference_type": reference.type if reference else "",
        "reference_id": reference.id if reference else None,
        "note": (note or "").strip()[:500],
        "created_by": getattr(actor, "pk", None),
        "created_at": now or timezone.now(),
        **(extra or {}),
    }
    with transaction.atomic():
        customer = _customer_lock(customer_id)
        if check is not None:
            check(customer)
        before = getattr(customer, ledger.total)
        sql = _POST_SQL.format(
            customers=qualified_table("customers_customer"),
            table=qualified_table(ledger.table),
            total=ledger.total,
            change=ledger.change,
            after=ledger.after,
            columns=", ".join(fields),
            values=", ".join(f"%({column})s" for column in fields),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {"change": change, "customer": customer.pk, **fields})
            entry_id, total_after = cursor.fetchone()
        entry = ledger.model(
            id=entry_id,
            customer_id=customer.pk,
            **{ledger.change: change, ledger.after: total_after},
            **fields,
        )
        audit_record(
            action=f"customer.{ledger.audit}.{fields['type'].lower()}",
            entity_type="customer",
            entity_id=customer.pk,
            actor=actor,
            before={ledger.total: before},
            after={
                ledger.total: total_after,
                ledger.change: change,
                "entry_id": entry_id,
                "reference": _reference_text(reference),
            },
        )
        setattr(customer, ledger.total, total_after)
        customer_totals_changed(customer)
    return entry


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
    return _ledger_post(
        BALANCE,
        actor=actor,
        customer_id=customer_id,
        type=type,
        change=amount,
        check=check,
        reference=reference,
        note=note,
    )


def _reference_text(reference: Reference | None) -> str | None:
    return f"{reference.type}:{reference.id}" if reference else None


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
        note=_text(reason, "reason", required=True),
    )


# --- loyalty points -------------------------------------------------------------------------------
def _program():
    return tenant_settings_cached(tenant=connection.tenant)


def _insufficient_points(held: int, points: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"The customer holds {held} points: {points} cannot be taken.",
        code=ErrorCode.INSUFFICIENT_POINTS,
        details=[{"field": "points", "message": f"At most {held} can be taken."}],
    )


def months_later(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _points_post(
    *,
    actor,
    customer_id: UUID,
    type: LoyaltyType,
    points: int,
    check=None,
    reference: Reference | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyEntry:
    """Adds `points` (signed) to the customer's points, with their history row; taking more
    than held is 422 INSUFFICIENT_POINTS. Credited points expire after the company's
    `loyalty_points_expiry_months`, when set."""
    now = now or timezone.now()
    expiry_months = _program().loyalty_points_expiry_months if points > 0 else None

    def points_check(customer: Customer) -> None:
        if check is not None:
            check(customer)
        if customer.loyalty_points + points < 0:
            raise _insufficient_points(customer.loyalty_points, -points)

    return _ledger_post(
        POINTS,
        actor=actor,
        customer_id=customer_id,
        type=type,
        change=points,
        check=points_check,
        reference=reference,
        note=note,
        now=now,
        extra={"expires_at": months_later(now, expiry_months) if expiry_months else None},
    )


def loyalty_earn(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Points earned on a sale (the caller computes them from the program)."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.EARN,
        points=_points(points),
        reference=reference,
        note=note,
    )


def loyalty_redeem(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Points spent: the program must be on (422 LOYALTY_DISABLED), at least its minimum (422
    BELOW_MIN_REDEEM) and no more than held (422 INSUFFICIENT_POINTS)."""
    points = _points(points)
    program = _program()
    if not program.loyalty_enabled:
        raise BusinessRuleViolation("The loyalty program is off.", code=ErrorCode.LOYALTY_DISABLED)
    if points < program.loyalty_min_redeem_points:
        raise BusinessRuleViolation(
            f"At least {program.loyalty_min_redeem_points} points must be redeemed at once.",
            code=ErrorCode.BELOW_MIN_REDEEM,
            details=[
                {
                    "field": "points",
                    "message": f"At least {program.loyalty_min_redeem_points}.",
                }
            ],
        )
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.REDEEM,
        points=-points,
        reference=reference,
        note=note,
    )


def loyalty_reverse(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Undoes points of a returned or voided sale: negative takes earned points back (never
    below zero: 422 INSUFFICIENT_POINTS, so the caller settles a shortfall otherwise), positive
    gives redeemed points back."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.REVERSE,
        points=_points(points, signed=True),
        reference=reference,
        note=note,
    )


def loyalty_adjust(*, actor, customer_id: UUID, points: int, reason: str) -> LoyaltyEntry:
    """A manual correction with a reason; never below zero (422 INSUFFICIENT_POINTS)."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.ADJUST,
        points=_points(points, signed=True),
        note=_text(reason, "reason", required=True),
    )


_EXPIRED_SQL = """
SELECT COALESCE(SUM(points) FILTER (WHERE points > 0 AND expires_at <= %(now)s), 0),
       COALESCE(-SUM(points) FILTER (WHERE points < 0), 0)
FROM {entries} WHERE customer_id = %(customer)s
"""


def loyalty_expire(*, customer_id: UUID, now: datetime | None = None) -> LoyaltyEntry | None:
    """Expires the customer's points whose date has passed, as one EXPIRE row (None when none
    are due). Points spent are counted against the soonest-expiring credits first, so what
    expires is: credits expired by `now` - everything ever taken (redeemed, reversed, adjusted
    down, expired before), never more than held. Running it again expires nothing more."""
    now = now or timezone.now()
    with transaction.atomic():
        customer = _customer_lock(customer_id)
        with connection.cursor() as cursor:
            cursor.execute(
                _EXPIRED_SQL.format(entries=qualified_table("customers_loyaltyentry")),
                {"now": now, "customer": customer.pk},
            )
            expired_credits, taken = cursor.fetchone()
        due = min(max(int(expired_credits) - int(taken), 0), customer.loyalty_points)
        if due == 0:
            return None
        return _points_post(
            actor=None,
            customer_id=customer.pk,
            type=LoyaltyType.EXPIRE,
            points=-due,
            note="Points expired.",
            now=now,
        )


def loyalty_expire_due(*, now: datetime | None = None) -> int:
    """Expires due points of every customer of the current company; returns how many customers
    lost points. Idempotent: a second run at the same time finds nothing due."""
    now = now or timezone.now()
    candidates = (
        Customer.objects.alive()
        .filter(loyalty_points__gt=0)
        .filter(
            pk__in=LoyaltyEntry.objects.filter(expires_at__lte=now, points__gt=0).values(
                "customer_id"
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in candidates if loyalty_expire(customer_id=pk, now=now) is not None)
