from __future__ import annotations

import functools

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import DEFERRED, OuterRef, QuerySet

from apps.core.db import qualified_table
from apps.core.errors import NotFound
from apps.core.prepared import PreparedStatement
from apps.core.roles import ROLE_PERMISSIONS, Role
from apps.stores.models import StoreAssignment
from apps.users.models import User


def user_permissions(*, user: User) -> list[str]:
    return sorted(ROLE_PERMISSIONS.get(user.role, frozenset()))


def _with_store_ids(queryset: QuerySet[User]) -> QuerySet[User]:
    """Adds `store_ids` (the user's live stores in the current tenant) in the same query."""
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


# The authenticated user of every request (the till's hot path), with their company, its
# settings and its plan, in one statement. Compiling the equivalent `select_related` queryset
# cost more than running it, and planning the join (~0.3 ms) more than executing it, so the
# statement is fixed SQL (column lists from the models, so it follows migrations), prepared once
# per session, with its tables schema-qualified (all public): a plan that fits every tenant. It
# is the request's leading statement (see PreparedStatement): it also sets the tenant's search
# path and stands in for the connection's health check.
#
# Only the columns requests read are selected: each column costs the server, the driver and the
# model on every request (the full rows, 71 columns, cost ~1.6x the CPU of these). The rest are
# deferred and load together, in one query, the first time one of them is read
# (DeferredLoadedTogether): the profile pages, receipts and the plan's own page pay that query.
AUTH_DEFERRED: dict[str, frozenset[str]] = {
    "users.User": frozenset(
        {"password", "pin_hash", "last_login", "phone", "avatar_url", "created_at", "updated_at"}
    ),
    "tenants.Tenant": frozenset(
        {
            "legal_name",
            "tax_id",
            "address",
            "email",
            "phone",
            "website",
            "logo_url",
            "created_at",
            "updated_at",
        }
    ),
    "tenants.TenantSettings": frozenset(
        {
            "receipt_header",
            "receipt_footer",
            "receipt_show_logo",
            "receipt_paper_width_mm",
            "receipt_fields",
            "receipt_return_policy",
            "receipt_locale",
            "updated_at",
        }
    ),
    "tenants.Package": frozenset(
        {"description", "price", "currency", "billing_period", "created_at", "updated_at"}
    ),
}


def _auth_fields(model) -> list:
    deferred = AUTH_DEFERRED[model._meta.label]
    return [field for field in model._meta.concrete_fields if field.attname not in deferred]


@functools.cache
def _auth_models() -> tuple:
    # the user's company, its settings and its plan, as the user's foreign key leads to them
    tenant = User._meta.get_field("tenant").related_model
    settings = tenant._meta.get_field("settings").related_model
    package = tenant._meta.get_field("package").related_model
    return (User, tenant, settings, package)


def _auth_user_sql() -> str:
    from django_tenants.utils import get_public_schema_name

    public = get_public_schema_name()
    user, tenant, settings, package = _auth_models()

    def select(model, alias: str) -> str:
        return ", ".join(f'{alias}."{field.column}"' for field in _auth_fields(model))

    def table(model) -> str:
        return qualified_table(model._meta.db_table, public)

    # identifiers from model metadata; the user id is a bound parameter
    return (
        f"SELECT {select(user, 'u')}, {select(tenant, 't')}, {select(settings, 's')},"  # noqa: S608
        f" {select(package, 'p')}"
        f" FROM {table(user)} u"
        f' LEFT JOIN {table(tenant)} t ON t."id" = u."tenant_id"'
        f' LEFT JOIN {table(settings)} s ON s."tenant_id" = t."id"'
        f' LEFT JOIN {table(package)} p ON p."id" = t."package_id"'
        ' WHERE u."id" = $1::uuid'
    )


_AUTH_USER = PreparedStatement("mipos_auth_user_v4", _auth_user_sql, parameters=1)


def _auth_user_row(user_id) -> tuple | None:
    return _AUTH_USER.fetchone([user_id])


@functools.cache
def _auth_user_layout() -> tuple[tuple[int, int], ...]:
    """(start, end) columns of user, company, settings and plan in a row, in that order. Model
    metadata never changes while the process runs."""
    layout, start = [], 0
    for model in _auth_models():
        end = start + len(_auth_fields(model))
        layout.append((start, end))
        start = end
    return tuple(layout)


@functools.cache
def _slots(model) -> tuple[tuple[int | None, ...], tuple[tuple[int, object], ...], int]:
    """For each concrete field of `model`: its position among the selected columns, or None
    when deferred; (position, field) of those whose raw value the ORM converts on reading (JSON
    arrives as text from this raw row, as Django's psycopg configuration asks); and the primary
    key's position among the selected columns."""
    selected = {field.attname: index for index, field in enumerate(_auth_fields(model))}
    fields = model._meta.concrete_fields
    slots = tuple(selected.get(field.attname) for field in fields)
    converters = tuple(
        (index, field)
        for index, field in enumerate(fields)
        if slots[index] is not None and hasattr(field, "from_db_value")
    )
    return slots, converters, selected[model._meta.pk.attname]


def _instance(model, db: str, values) -> object:
    """An instance of `model` from its selected columns, the others deferred."""
    slots, converters, _ = _slots(model)
    row = [DEFERRED if slot is None else values[slot] for slot in slots]
    for index, field in converters:
        row[index] = field.from_db_value(row[index], None, connections[db])
    return model.from_db(db, None, row)  # a full-length row: from_db reads no names


def _loaded(model, db: str, values) -> object | None:
    """The instance, or None when the LEFT JOIN found no row (its primary key is null)."""
    return None if values[_slots(model)[2]] is None else _instance(model, db, values)


def auth_user_get(*, user_id) -> User | None:
    """The user `user_id` with `user.tenant`, `user.tenant.settings` and `user.tenant.package`
    loaded (one query; the columns no request needs are deferred, see AUTH_DEFERRED)."""
    from django.db import connection

    row = _auth_user_row(user_id)
    if row is None:
        return None
    db = connection.alias
    (user_cols, tenant_cols, settings_cols, package_cols) = _auth_user_layout()
    user_model, tenant_model, settings_model, package_model = _auth_models()
    user = _instance(user_model, db, row[slice(*user_cols)])
    tenant = _loaded(tenant_model, db, row[slice(*tenant_cols)])
    if tenant is not None:
        tenant_settings = _loaded(settings_model, db, row[slice(*settings_cols)])
        if tenant_settings is not None:
            tenant_model.settings.related.set_cached_value(tenant, tenant_settings)
        tenant_model.package.field.set_cached_value(
            tenant, _loaded(package_model, db, row[slice(*package_cols)])
        )
    user_model.tenant.field.set_cached_value(user, tenant)
    return user


def active_user_count(tenant) -> int:
    """The company's active users (its plan's USERS limit; apps.core.plans)."""
    return User.objects.filter(tenant_id=tenant.pk, is_active=True, deleted_at__isnull=True).count()
