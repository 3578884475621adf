from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.stores.models import Store, StoreAssignment

ZERO = Decimal("0.00")


def store_list() -> QuerySet[Store]:
    return Store.objects.alive()


def store_get(*, store_id) -> Store:
    store = Store.objects.alive().filter(pk=store_id).first()
    if store is None:
        raise NotFound("Store not found.")
    return store


def store_ids_for_user(*, user_id: UUID) -> list[UUID]:
    return list(
        StoreAssignment.objects.filter(user_id=user_id, store__deleted_at__isnull=True)
        .order_by("store__name")
        .values_list("store_id", flat=True)
    )


def store_stats(*, store: Store) -> dict:
    """The store dashboard. Sales arrive with their module; the fields are fixed now so clients
    can rely on them."""
    from apps.inventory.selectors import open_transfer_count, stock_totals

    return {
        "store_id": store.pk,
        "today": {"sales_count": 0, "sales_total": ZERO},
        "month": {"sales_count": 0, "sales_total": ZERO},
        **stock_totals(store_id=store.pk),
        "open_transfers": open_transfer_count(store_id=store.pk),
    }
