"""Receipt print counters (the "COPY n" on a reprint), owned here, called by receipts."""

from __future__ import annotations

from uuid import UUID

from django.db import connection

from apps.core.db import (
    qualified_table,
)
from apps.sales.models import (
    Sale,
    SaleReturn,
)


# --- receipt counters -----------------------------------------------------------------------------
def _receipt_count_next(table: str, column: str, pk: UUID) -> int:
    """One UPDATE of the counter itself (so concurrent generations get distinct numbers),
    returning its new value; in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qualified_table(table)} SET {column} = {column} + 1 "  # noqa: S608
            f"WHERE id = %s RETURNING {column}",
            [pk],
        )
        (number,) = cursor.fetchone()
    return number


def sale_receipt_counted(*, sale_id: UUID, void: bool = False) -> int:
    """One more receipt given of the sale (of its void when `void`): its number (1 = the
    original). Used by `apps.receipts`; runs in the caller's transaction."""
    column = "void_receipt_count" if void else "receipt_count"
    return _receipt_count_next(Sale._meta.db_table, column, sale_id)


def sale_return_receipt_counted(*, sale_return_id: UUID) -> int:
    """One more receipt given of the return: its number (1 = the original). Used by
    `apps.receipts`; runs in the caller's transaction."""
    return _receipt_count_next(SaleReturn._meta.db_table, "receipt_count", sale_return_id)
