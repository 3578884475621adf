from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.roles import Role
from apps.stores.models import Store, StoreAssignment


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


def visible_store_ids(*, user) -> list[UUID] | None:
    """The locations whose stock and sales `user` may read: None for all (ADMIN, MANAGER), else
    the cashier's assigned stores."""
    if user.role in (Role.ADMIN, Role.MANAGER):
        return None
    return store_ids_for_user(user_id=user.pk)


def store_count(kind: str) -> int:
    """The live locations of one kind (the plan's STORES and WAREHOUSES limits; apps.core.plans)."""
    return Store.objects.alive().filter(kind=kind).count()
