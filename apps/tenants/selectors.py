from __future__ import annotations

from django.db.models import QuerySet

from apps.tenants.models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.filter(is_template=False).prefetch_related("domains")
