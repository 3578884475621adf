from __future__ import annotations

from decimal import Decimal

from django.db.models import Count

from apps.core.roles import Role
from apps.tenants.models import Tenant, TenantStatus
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
        # Platform sales volume arrives with the sales module; the fields are fixed now.
        "sales": {"count": 0, "volume": Decimal("0.00")},
    }
