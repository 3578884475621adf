"""The console's copy of each company's usage, in the public schema (TenantUsage,
TenantSalesDay): what lets one query list or rank a thousand companies.

- Stores, warehouses and products are recounted — not incremented — by the services that change
  them, in their transaction, after the change: the usage row is locked first, then the count
  runs as a new statement, so two parallel creators cannot both write a count missing the
  other's row (the second waits for the first to commit, then counts both). A recount cannot
  drift: a missed path is corrected by the next change, and `manage.py usage_recount` rebuilds
  every company's copy from its schema.
- Sales are added per checkout (one upsert on the company's row for the day, its local date)
  as the checkout's last statement, so the row is held only while the checkout commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from apps.core.plans import PlanResource, resource_usage
from apps.tenants.models import Tenant, TenantSalesDay, TenantUsage

# the resources TenantUsage keeps, by column
USAGE_COLUMNS: dict[PlanResource, str] = {
    PlanResource.STORES: "stores",
    PlanResource.WAREHOUSES: "warehouses",
    PlanResource.PRODUCTS: "products",
}


def tenant_usage_recount(*, tenant: Tenant, resources: tuple[PlanResource, ...]) -> None:
    """Recounts `resources` (in the current schema: the company's) into its usage row. Call in
    the changing transaction, after the change, as late as possible (the row stays locked until
    that transaction ends)."""
    columns = {
        resource: USAGE_COLUMNS[resource] for resource in resources if resource in USAGE_COLUMNS
    }
    if not columns:
        return
    if tenant.schema_name != connection.schema_name:
        raise RuntimeError("tenant_usage_recount must run in the company's schema")
    with transaction.atomic(), connection.cursor() as cursor:
        # the row is made or locked first; the counts below are new statements, so they see
        # what a previous holder of the lock committed
        cursor.execute(
            "INSERT INTO public.tenants_tenantusage AS u"
            " (tenant_id, stores, warehouses, products, updated_at)"
            " VALUES (%s, 0, 0, 0, now())"
            " ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now()",
            [tenant.pk],
        )
        counts = {
            column: resource_usage(resource, tenant=tenant) for resource, column in columns.items()
        }
        TenantUsage.objects.filter(tenant_id=tenant.pk).update(**counts)


def tenant_sale_record(*, tenant_id, sold_at: dt.datetime, time_zone: str, total: Decimal) -> None:
    """Adds one checkout of `total` to the company's day (its local date of `sold_at`). Call as
    the checkout's last statement."""
    day = sold_at.astimezone(ZoneInfo(time_zone)).date()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO public.tenants_tenantsalesday AS d
                (tenant_id, day, sales_count, sales_total)
            VALUES (%s, %s, 1, %s)
            ON CONFLICT (tenant_id, day) DO UPDATE
            SET sales_count = d.sales_count + 1, sales_total = d.sales_total + EXCLUDED.sales_total
            """,
            [tenant_id, day, total],
        )


def tenant_usage_rebuild(
    *, tenant: Tenant, sales_by_day: list[tuple[dt.date, int, Decimal]]
) -> None:
    """Replaces the company's copy with what its schema holds now (`manage.py usage_recount`;
    run in its schema, when it is quiet: a checkout committing meanwhile may be missed)."""
    with transaction.atomic():
        tenant_usage_recount(tenant=tenant, resources=tuple(USAGE_COLUMNS))
        TenantSalesDay.objects.filter(tenant_id=tenant.pk).delete()
        TenantSalesDay.objects.bulk_create(
            TenantSalesDay(tenant_id=tenant.pk, day=day, sales_count=count, sales_total=total)
            for day, count, total in sales_by_day
        )
