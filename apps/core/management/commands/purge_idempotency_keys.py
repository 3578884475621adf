from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from apps.core.idempotency import idempotency_purge, retention_cutoff

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Deletes Idempotency-Key records older than IDEMPOTENCY_RETENTION_HOURS (48 h by "
        "default) in every tenant schema. Requests also purge on their own; this is for a backlog "
        "or an external scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours", type=int, default=None, help="retention in hours (default: the setting)"
        )

    def handle(self, *args, **options):
        hours = options["hours"]
        if hours is not None and hours < 0:
            raise CommandError("--hours must be 0 or more.")
        cutoff = retention_cutoff(hours=hours)
        schemas = list(
            get_tenant_model()
            .objects.exclude(schema_name=get_public_schema_name())
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        total, failed = 0, []
        for schema in schemas:
            purged = 0
            try:
                with schema_context(schema):
                    while True:
                        with transaction.atomic():  # one batch, one short transaction
                            batch = idempotency_purge(before=cutoff, limit=BATCH)
                        purged += batch
                        if batch < BATCH:
                            break
            except DatabaseError as exc:  # one broken schema does not stop the others
                failed.append(schema)
                self.stderr.write(f"{schema}: {str(exc).strip()}")
            if purged:
                self.stdout.write(f"{schema}: {purged}")
            total += purged
        self.stdout.write(
            f"Purged {total} idempotency keys created before {cutoff.isoformat()} "
            f"from {len(schemas) - len(failed)} tenant schemas."
        )
        if failed:
            raise CommandError(f"Could not purge {len(failed)} schemas: {', '.join(failed)}")
