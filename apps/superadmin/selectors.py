from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from apps.core.roles import Role
from apps.tenants.models import Tenant, TenantSalesDay, TenantStatus
from apps.users.models import User


def platform_stats() -> dict:
    by_status = dict(
        Tenant.objects.filter(is_template=False)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    by_role = dict(
        User.objects.filter(deleted_at__isnull=True)
        .values_list("role")
        .annotate(n=Count("pk"))
        .values_list("role", "n")
    )
    return {
        "tenants": {
            "total": sum(by_status.values()),
            **{status.lower(): by_status.get(status, 0) for status in TenantStatus.values},
        },
        "users": {
            "total": sum(by_role.values()),
            **{role.lower(): by_role.get(role, 0) for role in Role.values},
        },
        "sales": _sales(),
    }


def _sales() -> dict:
    """Every checkout on the platform and their total, from the companies' day rollup (public
    schema: apps.tenants.usage), per currency; `volume` adds them all (one figure for a
    single-currency platform; `byCurrency` says what it is made of)."""
    rows = list(
        TenantSalesDay.objects.values("tenant__settings__currency")
        .annotate(count=Sum("sales_count"), volume=Sum("sales_total"))
        .order_by("tenant__settings__currency")
        .values_list("tenant__settings__currency", "count", "volume")
    )
    return {
        "count": sum(count for _currency, count, _volume in rows),
        "volume": sum((volume for _currency, _count, volume in rows), Decimal("0.00")),
        "by_currency": [
            {"currency": currency, "count": count, "volume": volume}
            for currency, count, volume in rows
        ],
    }
