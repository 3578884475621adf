"""Writes for expenses and their categories (ADMIN and MANAGER: `expense:write`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.core.db import (
    UNSET,
    Unset,
    live_name_taken,
    row_create,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
)
from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.validation import validate_range, validate_text
from apps.expenses.models import Expense, ExpenseCategory
from apps.stores.models import Store
from apps.tenants.selectors import company_currency

EXPENSE_FIELDS = (
    "category_id",
    "store_id",
    "amount",
    "date",
    "description",
    "payment_method",
    "reference",
)
MAX_AMOUNT = Decimal("1e12")


def _category_conflict() -> Conflict:
    return Conflict(
        "An expense category with this name already exists.",
        details=[{"field": "name", "message": "Already in use."}],
    )


def expense_category_create(*, actor, name: str) -> ExpenseCategory:
    name = validate_text(name, field="name")
    if live_name_taken(ExpenseCategory.objects.alive(), name):
        raise _category_conflict()
    return row_create(
        ExpenseCategory(name=name),
        conflict=_category_conflict(),
        actor=actor,
        action="expense_category.create",
        entity_type="expense_category",
        after={"name": name},
    )


def expense_category_delete(*, actor, category_id: UUID) -> ExpenseCategory:
    """Soft delete; refused while live expenses use it (422 IN_USE)."""

    def guard(category: ExpenseCategory) -> None:
        if Expense.objects.alive().filter(category_id=category.pk).exists():
            raise BusinessRuleViolation(
                "Expenses use this category: move or delete them first.",
                code=ErrorCode.IN_USE,
            )

    return row_soft_delete(
        lock=lambda: row_lock(ExpenseCategory.objects.alive(), category_id),
        actor=actor,
        action="expense_category.delete",
        entity_type="expense_category",
        guard=guard,
    )


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Checks the expense fields present in `changes` (ids of live rows of this company)."""
    if "amount" in changes:
        amount = changes["amount"]
        if amount <= 0:
            raise ValidationFailed.for_field("amount", "Must be greater than zero.")
        validate_range(amount, field="amount", high=MAX_AMOUNT)
    categories = ExpenseCategory.objects.alive()
    if "category_id" in changes and not categories.filter(pk=changes["category_id"]).exists():
        raise ValidationFailed.for_field("categoryId", "Unknown expense category.")
    stores = Store.objects.filter(deleted_at__isnull=True)
    if changes.get("store_id") is not None and not stores.filter(pk=changes["store_id"]).exists():
        raise ValidationFailed.for_field("storeId", "Unknown store.")
    for field in ("description", "reference"):
        if field in changes:
            changes[field] = (changes[field] or "").strip()
    if "payment_method" in changes and changes["payment_method"] is None:
        changes["payment_method"] = ""
    return changes


def expense_create(
    *,
    actor,
    category_id: UUID,
    amount: Decimal,
    date: date,
    store_id: UUID | None = None,
    description: str = "",
    payment_method: str = "",
    reference: str = "",
) -> Expense:
    fields = _clean(
        {
            "category_id": category_id,
            "store_id": store_id,
            "amount": amount,
            "date": date,
            "description": description,
            "payment_method": payment_method,
            "reference": reference,
        }
    )
    expense = Expense(**fields, currency=company_currency(), created_by=getattr(actor, "pk", None))
    with transaction.atomic():
        expense.save(force_insert=True)
        audit_record(
            action="expense.create",
            entity_type="expense",
            entity_id=expense.pk,
            actor=actor,
            after=snapshot(expense, EXPENSE_FIELDS),
        )
    return expense


def expense_update(
    *,
    actor,
    expense_id: UUID,
    category_id: UUID | Unset = UNSET,
    store_id: UUID | Unset | None = UNSET,
    amount: Decimal | Unset = UNSET,
    date: date | Unset = UNSET,
    description: str | Unset = UNSET,
    payment_method: str | Unset = UNSET,
    reference: str | Unset = UNSET,
) -> Expense:
    changes = _clean(
        sent(
            category_id=category_id,
            store_id=store_id,
            amount=amount,
            date=date,
            description=description,
            payment_method=payment_method,
            reference=reference,
        )
    )
    return row_update(
        lock=lambda: row_lock(Expense.objects.alive(), expense_id),
        changes=changes,
        actor=actor,
        action="expense.update",
        entity_type="expense",
    )


def expense_delete(*, actor, expense_id: UUID) -> Expense:
    return row_soft_delete(
        lock=lambda: row_lock(Expense.objects.alive(), expense_id),
        actor=actor,
        action="expense.delete",
        entity_type="expense",
    )
