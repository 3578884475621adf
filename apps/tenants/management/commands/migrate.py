from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from apps.tenants.services import tenant_ensure_template


class Command(MigrateSchemasCommand):
    """`migrate` = django-tenants' `migrate_schemas` (public + every tenant), then makes sure the
    migrated template schema that new tenants are cloned from exists."""

    def handle(self, *args, **options):
        super().handle(*args, **options)
        if not options.get("schema_name") and not options.get("app_label"):
            tenant_ensure_template()
