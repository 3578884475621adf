import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.catalog.imports import ImportFailed, products_bulk_import, rows_from_upload
from apps.core.errors import ApplicationError
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Imports products from a CSV or XLSX file into a company (same rules as the API)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--tenant", required=True, help="company slug")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--partial", action="store_true", help="keep the valid rows")
        parser.add_argument("--create-missing", action="store_true")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"], is_template=False).first()
        if tenant is None:
            raise CommandError(f"No company with slug {options['tenant']!r}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")

        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=""
            )
            self.stdout.flush()

        try:
            with tenant_context(tenant):
                rows = rows_from_upload(path.name, path.read_bytes())
                report = products_bulk_import(
                    actor=None,
                    rows=rows,
                    dry_run=options["dry_run"],
                    mode="partial" if options["partial"] else "all",
                    create_missing=options["create_missing"],
                    progress=progress,
                )
        except ImportFailed as failed:
            for error in failed.report.errors[:50]:
                self.stderr.write(f"row {error['row']}: {error['field']}: {error['message']}")
            raise CommandError(failed.message) from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write("")
        self.stdout.write(
            f"{'Checked' if report.dry_run else 'Imported'} {report.rows} rows: "
            f"{report.products_created} products created, {report.products_updated} updated, "
            f"{report.variants_created} variants created, {report.variants_updated} updated, "
            f"{report.failed_rows} rows failed."
        )
        for error in report.errors[:50]:
            self.stderr.write(f"row {error['row']}: {error['field']}: {error['message']}")
        if report.failed_rows:
            sys.exit(1)
