"""Reads for expenses: the list (with its filters), one expense, the summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Lower, TruncMonth

from apps.core.errors import NotFound
from apps.expenses.models import Expense, ExpenseCategory

ZERO = Decimal("0.00")


def category_list() -> QuerySet[ExpenseCategory]:
    return ExpenseCategory.objects.alive().order_by(Lower("name"), "id")


def category_get(*, category_id: UUID) -> ExpenseCategory:
    category = category_list().filter(pk=category_id).first()
    if category is None:
        raise NotFound("Expense category not found.")
    return category


def expense_list() -> QuerySet[Expense]:
    return Expense.objects.alive().select_related("category", "store")


def expense_get(*, expense_id: UUID) -> Expense:
    expense = expense_list().filter(pk=expense_id).first()
    if expense is None:
        raise NotFound("Expense not found.")
    return expense


def expenses_between(
    queryset: QuerySet[Expense], *, start: date | None, end: date | None
) -> QuerySet[Expense]:
    """Expenses dated from `start` to `end`, both days included (company calendar days)."""
    if start is not None:
        queryset = queryset.filter(date__gte=start)
    if end is not None:
        queryset = queryset.filter(date__lte=end)
    return queryset


def expense_summary(queryset: QuerySet[Expense]) -> dict[str, Any]:
    """Totals of the (filtered) expenses: overall, by category, by store, by month — the same
    rows the list shows for the same filters. Four aggregate queries."""
    rows = queryset.order_by()
    overall = rows.aggregate(total=Sum("amount"), count=Count("id"))
    by_category = [
        {
            "category_id": row["category_id"],
            "name": row["category__name"],
            "total": row["total"],
            "count": row["count"],
        }
        for row in rows.values("category_id", "category__name")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-total", "category__name")
    ]
    by_store = [
        {
            "store_id": row["store_id"],
            "name": row["store__name"],
            "total": row["total"],
            "count": row["count"],
        }
        for row in rows.values("store_id", "store__name")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-total", "store__name")
    ]
    by_month = [
        {"month": row["month"].strftime("%Y-%m"), "total": row["total"], "count": row["count"]}
        for row in rows.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("month")
    ]
    return {
        "total": overall["total"] or ZERO,
        "count": overall["count"],
        "by_category": by_category,
        "by_store": by_store,
        "by_month": by_month,
    }
