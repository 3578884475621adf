from __future__ import annotations

import functools

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, QuerySet

from apps.core.db import PreparedStatement, qualified_table
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


# The authenticated user of every request (the till's hot path), with their company and its
# settings, in one statement. Compiling the equivalent `select_related` queryset cost more than
# running it, and planning the three-table join (~0.3 ms) more than executing it, so the statement
# is fixed SQL (column lists from the models, so it follows migrations), prepared once per
# session, with its tables schema-qualified (all public): a plan that fits every tenant. It is
# the request's leading statement (see PreparedStatement): it also sets the tenant's search path
# and stands in for the connection's health check.


def _columns(model) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _auth_user_sql() -> str:
    from django_tenants.utils import get_public_schema_name

    from apps.tenants.models import Package, Tenant, TenantSettings

    public = get_public_schema_name()

    def select(model, alias: str) -> str:
        return ", ".join(f'{alias}."{column}"' for column in _columns(model))

    def table(model) -> str:
        return qualified_table(model._meta.db_table, public)

    # identifiers from model metadata; the user id is a bound parameter
    return (
        f"SELECT {select(User, 'u')}, {select(Tenant, 't')}, {select(TenantSettings, 's')},"  # noqa: S608
        f" {select(Package, 'p')}"
        f" FROM {table(User)} u"
        f' LEFT JOIN {table(Tenant)} t ON t."id" = u."tenant_id"'
        f' LEFT JOIN {table(TenantSettings)} s ON s."tenant_id" = t."id"'
        f' LEFT JOIN {table(Package)} p ON p."id" = t."package_id"'
        ' WHERE u."id" = $1::uuid'
    )


_AUTH_USER = PreparedStatement("mipos_auth_user_v3", _auth_user_sql, parameters=1)


def _auth_user_row(user_id) -> tuple | None:
    return _AUTH_USER.fetchone([user_id])


@functools.cache
def _auth_user_layout() -> tuple[tuple[list[str], int], ...]:
    """(attribute names, end column) of user, company, settings and plan in a row, in that
    order. Model metadata never changes while the process runs."""
    from apps.tenants.models import Package, Tenant, TenantSettings

    layout, end = [], 0
    for model in (User, Tenant, TenantSettings, Package):
        names = _attnames(model)
        end += len(names)
        layout.append((names, end))
    return tuple(layout)


@functools.cache
def _converters(model) -> tuple[tuple[int, object], ...]:
    """(position, field) of the model's columns whose raw value the ORM converts on reading
    (JSON arrives as text from this raw row, as Django's psycopg configuration asks)."""
    return tuple(
        (index, field)
        for index, field in enumerate(model._meta.concrete_fields)
        if hasattr(field, "from_db_value")
    )


def _instance(model, db: str, names: list[str], values) -> object:
    values = list(values)
    for index, field in _converters(model):
        values[index] = field.from_db_value(values[index], None, connections[db])
    return model.from_db(db, names, values)


def auth_user_get(*, user_id) -> User | None:
    """The user `user_id` with `user.tenant`, `user.tenant.settings` and `user.tenant.package`
    loaded (one query)."""
    from django.db import connection

    from apps.tenants.models import Package, Tenant, TenantSettings

    row = _auth_user_row(user_id)
    if row is None:
        return None
    db = connection.alias
    layout = _auth_user_layout()
    (user_names, user_end), (tenant_names, tenant_end) = layout[0], layout[1]
    (settings_names, settings_end), (package_names, _) = layout[2], layout[3]
    user = _instance(User, db, user_names, row[:user_end])
    tenant = None
    if row[user_end] is not None:
        tenant = _instance(Tenant, db, tenant_names, row[user_end:tenant_end])
        if row[tenant_end] is not None:
            tenant_settings = _instance(
                TenantSettings, db, settings_names, row[tenant_end:settings_end]
            )
            Tenant.settings.related.set_cached_value(tenant, tenant_settings)
        package = None
        if row[settings_end] is not None:
            package = _instance(Package, db, package_names, row[settings_end:])
        Tenant.package.field.set_cached_value(tenant, package)
    User.tenant.field.set_cached_value(user, tenant)
    return user
