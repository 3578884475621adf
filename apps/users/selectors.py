from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet

from apps.core.errors import NotFound
from apps.core.roles import ROLE_PERMISSIONS, Role
from apps.users.models import User


def user_permissions(*, user: User) -> list[str]:
    return sorted(ROLE_PERMISSIONS.get(user.role, frozenset()))


def _with_store_ids(queryset: QuerySet[User]) -> QuerySet[User]:
    """Adds `store_ids` (the user's live stores in the current tenant) in the same query."""
    from apps.stores.models import StoreAssignment

    stores = (
        StoreAssignment.objects.filter(user_id=OuterRef("pk"), store__deleted_at__isnull=True)
        .order_by("store_id")
        .values("store_id")
    )
    return queryset.annotate(store_ids=ArraySubquery(stores))


def staff_list(*, tenant) -> QuerySet[User]:
    """The company's staff (deleted users excluded), with their store ids."""
    return _with_store_ids(User.objects.filter(tenant=tenant, deleted_at__isnull=True))


def staff_get(*, tenant, user_id) -> User:
    user = staff_list(tenant=tenant).select_related("tenant").filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found.")
    return user


def platform_user_list() -> QuerySet[User]:
    return User.objects.select_related("tenant")


def platform_user_get(*, user_id) -> User:
    user = platform_user_list().filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found.")
    return user


def super_admin_list() -> QuerySet[User]:
    return User.objects.filter(role=Role.SUPER_ADMIN, deleted_at__isnull=True)
