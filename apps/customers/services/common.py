"""What the customer writers share: the document behind a ledger row (`Reference`), the text and
role checks, and the two ledgers — a running total on the customer row and the append-only table
that explains it — with their one writer, `ledger_post`, which moves the locked customer's total
and appends the row in one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.db import qualified_table, row_lock
from apps.core.roles import Role
from apps.core.validation import validate_text
from apps.customers.events import customer_totals_changed
from apps.customers.models import Customer, CustomerLedgerEntry, LoyaltyEntry


@dataclass(frozen=True)
class Reference:
    """The document behind a ledger row (a sale, a payment, a return…)."""

    type: str
    id: UUID


def text(value: str, field: str, *, required: bool = False) -> str:
    return validate_text(value, field=field, required=required)


def is_manager(actor) -> bool:
    return actor is None or getattr(actor, "role", None) in (Role.ADMIN, Role.MANAGER)


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
    "balance",
    "customers_customerledgerentry",
    CustomerLedgerEntry,
    "amount",
    "balance_after",
    "balance",
)


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


def customer_lock(customer_id: UUID) -> Customer:
    """The live customer, read fresh and locked until the transaction ends (404 otherwise)."""
    return row_lock(Customer.objects.alive(), customer_id)


def ledger_post(
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
        customer = customer_lock(customer_id)
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


def _reference_text(reference: Reference | None) -> str | None:
    return f"{reference.type}:{reference.id}" if reference else None
