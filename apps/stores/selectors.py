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
    """The store dashboard: today's and this month's sales (days in the store's time zone, else
    the company's), stock figures, open transfers."""
    from django.db import connection

    from apps.inventory.selectors import open_transfer_count, stock_totals
    from apps.sales.selectors import day_and_month_start, sales_figures
    from apps.tenants.selectors import tenant_settings_cached

    zone = store.timezone or tenant_settings_cached(tenant=connection.tenant).timezone
    today, month = day_and_month_start(time_zone=zone)

    def figures(since) -> dict:
        found = sales_figures(since=since, store_id=store.pk)
        return {"sales_count": found["sales_count"], "sales_total": found["sales_total"]}

    return {
        "store_id": store.pk,
        "today": figures(today),
        "month": figures(month),
        **stock_totals(store_id=store.pk),
        "open_transfers": open_transfer_count(store_id=store.pk),
    }
