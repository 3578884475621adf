"""Test support for the replica (apps.core.replica): `replica_alias(url)` configures the `replica`
database alias for a block, as DATABASE_REPLICA_URL would at start-up, and removes it after (its
connection closed, the per-process replica state reset before and after); `committed_expense`
commits an expense in a company (a report figure a standby can see) and hands back its clean-up.
Both run outside pytest-django's test transaction: a `django_db` test refuses connections to an
alias it did not declare, and the alias only exists from inside the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from decimal import Decimal

from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.core import replica
from apps.expenses.models import Expense, ExpenseCategory
from apps.expenses.services import expense_category_create, expense_create
from mipos.database import replica_database


@contextmanager
def replica_alias(url: str) -> Iterator[None]:
    config = connections.configure_settings({"default": {}, replica.REPLICA: replica_database(url)})
    connections.settings[replica.REPLICA] = config[replica.REPLICA]
    replica.state.reset()
    try:
        yield
    finally:
        with suppress(AttributeError):  # never opened in this thread
            connections[replica.REPLICA].close()
            del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]
        replica.state.reset()


def committed_expense(world, *, category: str, amount: str, day: date) -> Callable[[], None]:
    """Commits an expense of `amount` on `day` in `world`'s company, in a new category; returns
    the function that removes both and their audit rows."""
    with tenant_context(world.tenant):
        made = expense_category_create(actor=world.admin, name=category)
        expense = expense_create(
            actor=world.admin, category_id=made.pk, amount=Decimal(amount), date=day
        )
    connection.set_schema_to_public()

    def remove() -> None:
        with tenant_context(world.tenant), audit_maintenance():
            Expense.objects.filter(category_id=made.pk).delete()
            ExpenseCategory.objects.filter(pk=made.pk).delete()
            AuditLog.objects.filter(entity_id__in=[str(made.pk), str(expense.pk)]).delete()
        connection.set_schema_to_public()

    return remove
