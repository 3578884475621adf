from django.conf import settings
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name, schema_exists

from apps.tenants.models import Tenant
from apps.tenants.schema_migrations import migration_executor, schemas_behind_template
from apps.tenants.schema_template import template_migrations_digest
from apps.tenants.services import tenant_ensure_template

# Options that ask for something other than "bring every schema up to date": django-tenants'
# own walk of the schemas handles them.
_TARGETED = (
    "schema_name",
    "app_label",
    "migration_name",
    "fake",
    "fake_initial",
    "plan",
    "prune",
    "check_unapplied",
    "all_schemas",
)


class Command(MigrateSchemasCommand):
    """`migrate` = django-tenants' `migrate_schemas` (public + every tenant) without walking the
    schemas that are up to date: public, then the template, then only the companies' schemas
    behind the template (apps/tenants/schema_migrations.py), with `--executor` (standard,
    multiprocessing, subprocess) as django-tenants has them. Then makes sure the migrated template
    schema that new tenants are made from exists. `--all-schemas` walks every schema."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--all-schemas",
            action="store_true",
            dest="all_schemas",
            help="Walk every tenant schema, as migrate_schemas does, even those up to date.",
        )

    def handle(self, *args, **options):
        if any(options.get(name) for name in _TARGETED):
            walked = companies_schemas() if _only_all_schemas(options) else None
            super().handle(*args, **options)
            if walked is not None:  # every schema was walked: all of them are up to date
                migrations_recorded(walked)
        else:
            shared, tenant = options.get("shared"), options.get("tenant")
            if shared or not tenant:
                super().handle(*args, **{**options, "shared": True, "tenant": False})
                options = {**options, "skip_checks": True}  # public's migrate ran them
            if tenant or not shared:
                self._migrate_tenant_schemas(*args, **options)
        if not options.get("schema_name") and not options.get("app_label"):
            tenant_ensure_template()

    def _migrate_tenant_schemas(self, *args, **options):
        template = settings.TENANT_BASE_SCHEMA
        # Django's migrate runs the system checks for every schema it is given (~50 ms each):
        # once, here, is enough.
        if not options.get("skip_checks"):
            self.check(databases=[options.get("database") or "default"])
        options = {**options, "shared": False, "tenant": True, "skip_checks": True}
        if schema_exists(template):
            super().handle(*args, **{**options, "schema_name": template})
        checked = companies_schemas()  # before the check: a company made meanwhile is not in it
        behind = schemas_behind_template(template=template)
        if int(options.get("verbosity", 1)) >= 1:
            self.stdout.write(f"Company schemas behind the template: {len(behind)}")
        if behind:
            self.options = {**options, "schema_name": None}
            executor = migration_executor(options.get("executor"))(args, self.options)
            executor.run_migrations(tenants=behind)
        migrations_recorded(checked)  # each is now at the template's state (a failure raised)


def companies_schemas() -> list[str]:
    return list(
        Tenant.objects.exclude(
            schema_name__in=[settings.TENANT_BASE_SCHEMA, get_public_schema_name()]
        ).values_list("schema_name", flat=True)
    )


def _only_all_schemas(options) -> bool:
    """`--all-schemas` alone (not `--shared`, no app, migration, schema, fake or plan): every
    company's schema brought up to date."""
    return (
        bool(options.get("all_schemas"))
        and not options.get("shared")
        and not any(options.get(name) for name in _TARGETED if name != "all_schemas")
    )


def migrations_recorded(schemas: list[str]) -> None:
    """These companies' schemas are at the template's migration state (the console's health
    reads it: Tenant.migrations_digest)."""
    template = settings.TENANT_BASE_SCHEMA
    if schemas and schema_exists(template):
        Tenant.objects.filter(schema_name__in=schemas).update(
            migrations_digest=template_migrations_digest(template)
        )
