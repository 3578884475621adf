"""Rebuilds the console's usage figures (apps.tenants.usage) of every company from its schema:
after an upgrade that introduced them, or to repair them."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.sales.selectors import sales_by_day
from apps.tenants.models import Tenant
from apps.tenants.usage import tenant_usage_rebuild


class Command(BaseCommand):
    help = "Recount every company's stores, warehouses, products and sales per day for the console."

    def handle(self, *args, **options) -> None:
        companies = Tenant.objects.filter(is_template=False).select_related("settings")
        done = 0
        for tenant in companies.iterator():
            with schema_context(tenant.schema_name):
                tenant_usage_rebuild(
                    tenant=tenant, sales_by_day=sales_by_day(time_zone=tenant.settings.timezone)
                )
            done += 1
        self.stdout.write(f"usage recounted for {done} companies")
