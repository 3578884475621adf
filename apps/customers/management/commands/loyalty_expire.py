from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from apps.customers.services import loyalty_expire_due
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Expires loyalty points whose date has passed (companies that set "
        "loyaltyPointsExpiryMonths), in every company. Idempotent: run it daily from a "
        "scheduler; a second run expires nothing more."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by(
            "schema_name"
        )
        total, failed = 0, []
        for tenant in tenants:
            try:
                with tenant_context(tenant):
                    expired = loyalty_expire_due(now=now)
            except DatabaseError as exc:  # one broken schema does not stop the others
                failed.append(tenant.schema_name)
                self.stderr.write(f"{tenant.schema_name}: {str(exc).strip()}")
                continue
            if expired:
                self.stdout.write(f"{tenant.schema_name}: {expired} customers")
            total += expired
        self.stdout.write(f"Expired points of {total} customers as of {now.isoformat()}.")
        if failed:
            raise CommandError(f"Could not expire points in {len(failed)} schemas.")
