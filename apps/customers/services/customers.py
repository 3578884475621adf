"""Customers: create, edit and soft delete. The contacts (email, phone) are unique among live
customers, a cashier may not give credit or a group discount, and a customer who owes money or
holds store credit is not deleted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models.functions import Lower

from apps.audit.services import audit_record
from apps.core.db import (
    UNSET,
    Unset,
    advisory_locks,
    document_number_next,
    insert_or_conflict,
    qualified_table,
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
    PermissionDenied,
    ValidationFailed,
)
from apps.core.money import CENT, MAX_MONEY
from apps.core.phones import phone_normalise
from apps.core.validation import validate_range
from apps.customers.events import customer_changed
from apps.customers.models import Customer
from apps.customers.services.common import is_manager, text
from apps.tenants.selectors import tenant_settings_cached

CUSTOMER_FIELDS = (
    "code",
    "name",
    "email",
    "phone",
    "tax_id",
    "address",
    "notes",
    "group_id",
    "credit_limit",
)


# Fields only managers and admins may change (a cashier sending another value: 403).
MANAGED_FIELDS = {"group_id": "groupId", "credit_limit": "creditLimit"}


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Trims and checks the customer fields present in `changes`."""
    if "name" in changes:
        changes["name"] = text(changes["name"], "name", required=True)
    if "email" in changes:
        changes["email"] = text(changes["email"], "email")
        if changes["email"]:
            try:
                validate_email(changes["email"])
            except DjangoValidationError:
                raise ValidationFailed.for_field("email", "Enter a valid email address.") from None
    if "phone" in changes:
        # stored in E.164, read in the company's country: one customer however it is typed
        changes["phone"] = phone_normalise(
            text(changes["phone"], "phone"),
            country=tenant_settings_cached(tenant=connection.tenant).country,
        )
    for field in ("tax_id", "address", "notes"):
        if field in changes:
            changes[field] = text(changes[field], field)
    if "credit_limit" in changes:
        validate_range(changes["credit_limit"], field="creditLimit", low=0, high=MAX_MONEY - CENT)
    return changes


def _guard_managed_fields(actor, pending: dict[str, Any]) -> None:
    """A cashier may create and edit customers, but not give credit or a group discount."""
    if is_manager(actor):
        return
    refused = [name for field, name in MANAGED_FIELDS.items() if field in pending]
    if refused:
        raise PermissionDenied(
            "Only managers and admins may change a customer's credit limit or group.",
            details=[{"field": name, "message": "Managers and admins only."} for name in refused],
        )


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
