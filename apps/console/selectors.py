"""Reads of the platform console: each company's usage against its plan and the dashboard's
figures. Every figure family is one query over the public schema (apps.tenants.usage keeps the
companies' usage there), so neither page enters a company's schema nor grows in queries with the
number of companies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tenants.utils import schema_exists

from apps.core.shared_cache import shared_get_or_load
from apps.core.views import database_readiness, redis_readiness
from apps.devtools.models import LogEntry
from apps.tenants.models import Tenant, TenantStatus
from apps.tenants.schema_template import template_migrations_digest
from apps.users.models import User

DASHBOARD_CACHE_KEY = "console:dashboard"

# The first day of the company's current month, in its time zone (its settings row: `s`).
_MONTH_START = "date_trunc('month', now() AT TIME ZONE s.timezone)::date"
_TODAY = "(now() AT TIME ZONE s.timezone)::date"

# sales this month of the row's company (tenants_tenant), from the day rollup
SALES_THIS_MONTH_SQL = f"""
    SELECT coalesce(sum(d.sales_count), 0) FROM tenants_tenantsalesday d
    JOIN tenants_tenantsettings s ON s.tenant_id = d.tenant_id
    WHERE d.tenant_id = tenants_tenant.id AND d.day >= {_MONTH_START}
"""  # noqa: S608  (no input in it)


def company_users_count() -> Subquery:
    """The company's active users, as the plan's USERS limit counts them."""
    return Subquery(
        User.objects.filter(tenant_id=OuterRef("pk"), is_active=True, deleted_at__isnull=True)
        .order_by()
        .values("tenant_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def company_list() -> QuerySet[Tenant]:
    """The companies (never the template) with their plan, usage and settings in the same row:
    one query for a page of any length."""
    return (
        Tenant.objects.filter(is_template=False)
        .select_related("package", "usage", "settings")
        .annotate(
            users_count=Coalesce(company_users_count(), Value(0)),
            sales_this_month=RawSQL(  # noqa: S611  (a constant statement)
                SALES_THIS_MONTH_SQL, [], output_field=IntegerField()
            ),
        )
    )


@dataclass(frozen=True)
class UsageLine:
    label: str
    used: int
    limit: int | None

    @property
    def percent(self) -> int | None:
        if not self.limit:
            return None
        return min(999, round(100 * self.used / self.limit))

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def company_usage_lines(company: Tenant) -> list[UsageLine]:
    """A company from `company_list()`: each counted resource against its plan's limit."""
    plan, usage = company.package, getattr(company, "usage", None)
    counts = {
        "stores": usage.stores if usage else 0,
        "warehouses": usage.warehouses if usage else 0,
        "users": company.users_count,
        "products": usage.products if usage else 0,
        "sales_per_month": company.sales_this_month,
    }
    labels = {
        "stores": "Stores",
        "warehouses": "Warehouses",
        "users": "Active users",
        "products": "Products",
        "sales_per_month": "Sales this month",
    }
    return [
        UsageLine(labels[key], used, getattr(plan, f"max_{key}") if plan else None)
        for key, used in counts.items()
    ]


# --- the dashboard ----------------------------------------------------------------------------
NEAR_LIMITS_SQL = f"""
    WITH usage AS (
        SELECT t.id, t.name, t.slug, p.name AS plan,
               coalesce(u.stores, 0) AS stores, p.max_stores,
               coalesce(u.warehouses, 0) AS warehouses, p.max_warehouses,
               coalesce(u.products, 0) AS products, p.max_products,
               (SELECT count(*) FROM users_user x WHERE x.tenant_id = t.id AND x.is_active
                AND x.deleted_at IS NULL) AS users, p.max_users,
               (SELECT coalesce(sum(d.sales_count), 0) FROM tenants_tenantsalesday d
                WHERE d.tenant_id = t.id AND d.day >= {_MONTH_START}) AS sales,
               p.max_sales_per_month
        FROM tenants_tenant t
        JOIN tenants_package p ON p.id = t.package_id
        JOIN tenants_tenantsettings s ON s.tenant_id = t.id
        LEFT JOIN tenants_tenantusage u ON u.tenant_id = t.id
        WHERE NOT t.is_template AND t.status = %s
    )
    SELECT *, greatest(
        stores::numeric / nullif(max_stores, 0), warehouses::numeric / nullif(max_warehouses, 0),
        products::numeric / nullif(max_products, 0), users::numeric / nullif(max_users, 0),
        sales::numeric / nullif(max_sales_per_month, 0)) AS ratio
    FROM usage ORDER BY ratio DESC NULLS LAST, name LIMIT %s
"""  # noqa: S608  (no input in it)

SALES_SQL = f"""
    SELECT s.currency,
           coalesce(sum(d.sales_count) FILTER (WHERE d.day = {_TODAY}), 0),
           coalesce(sum(d.sales_total) FILTER (WHERE d.day = {_TODAY}), 0),
           coalesce(sum(d.sales_count), 0), coalesce(sum(d.sales_total), 0)
    FROM tenants_tenantsalesday d
    JOIN tenants_tenantsettings s ON s.tenant_id = d.tenant_id
    WHERE d.day >= date_trunc('month', current_date - 1)::date AND d.day >= {_MONTH_START}
    GROUP BY s.currency ORDER BY s.currency
"""  # noqa: S608  (no input; the first bound, no later than any company's month start — local
#   dates are within a day of the server's — lets the day index narrow the scan)


@dataclass
class Dashboard:
    as_of: dt.datetime
    companies: dict[str, int]
    sales: list[dict[str, Any]]  # per currency: today's and this month's checkouts and totals
    near_limits: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    health: dict[str, str] = field(default_factory=dict)


def _companies() -> dict[str, int]:
    month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Tenant.objects.filter(is_template=False).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=TenantStatus.ACTIVE)),
        suspended=Count("pk", filter=Q(status=TenantStatus.SUSPENDED)),
        created_this_month=Count("pk", filter=Q(created_at__gte=month)),
    )


def _sales() -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(SALES_SQL)
        return [
            {
                "currency": currency,
                "today_count": int(today_count),
                "today_total": Decimal(today_total),
                "month_count": int(month_count),
                "month_total": Decimal(month_total),
            }
            for currency, today_count, today_total, month_count, month_total in cursor.fetchall()
        ]


def _near_limits(limit: int = 10) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(NEAR_LIMITS_SQL, [TenantStatus.ACTIVE, limit])
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["percent"] = None if row["ratio"] is None else round(100 * row["ratio"])
    return [row for row in rows if row["ratio"] is not None]


def _errors(limit: int = 10) -> list[dict[str, Any]]:
    return list(
        LogEntry.objects.filter(level_no__gte=40)  # ERROR and CRITICAL
        .order_by("-time", "-id")
        .values("id", "time", "level", "logger", "message", "request_id", "tenant", "path")[:limit]
    )


def _health() -> dict[str, str]:
    health = {"database": database_readiness()}
    redis = redis_readiness()
    health["redis"] = redis if redis is not None else "not configured"
    health["companies' schemas"] = _schemas_health()
    return health


def _schemas_health() -> str:
    """The companies' schemas against the template's migrations, as company creation and
    `manage.py migrate` recorded them (Tenant.migrations_digest): two queries at any number of
    companies, where checking every schema takes about a second at 1,000."""
    template = settings.TENANT_BASE_SCHEMA
    try:
        if not schema_exists(template):
            return "no template schema (run migrate)"
        digest = template_migrations_digest(template)
    except DatabaseError:
        return "unknown"
    counts = Tenant.objects.filter(is_template=False).aggregate(
        behind=Count("pk", filter=~Q(migrations_digest__in=[digest, ""])),
        unrecorded=Count("pk", filter=Q(migrations_digest="")),
    )
    parts = []
    if counts["behind"]:
        parts.append(f"{counts['behind']} behind (run migrate)")
    if counts["unrecorded"]:
        parts.append(f"{counts['unrecorded']} not recorded (run migrate)")
    return ", ".join(parts) or "up to date"


def dashboard_load() -> Dashboard:
    return Dashboard(
        as_of=timezone.now(),
        companies=_companies(),
        sales=_sales(),
        near_limits=_near_limits(),
        errors=_errors(),
        health=_health(),
    )


def dashboard_get() -> Dashboard:
    """The dashboard, from the shared cache when another request made it in the last
    CONSOLE_DASHBOARD_SECONDS (without Redis: made on every request)."""
    return shared_get_or_load(
        DASHBOARD_CACHE_KEY, dashboard_load, settings.CONSOLE_DASHBOARD_SECONDS
    )
