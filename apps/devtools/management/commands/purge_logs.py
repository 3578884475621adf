from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.devtools.services import log_entries_purge


class Command(BaseCommand):
    help = (
        "Applies the log store's retention: deletes stored log lines older than "
        "LOG_RETENTION_DAYS and all but the newest LOG_RETENTION_MAX_ROWS. The flusher thread "
        "does this on its own every LOG_RETENTION_PURGE_MINUTES; this is for a backlog or an "
        "external scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="age limit (0: none)")
        parser.add_argument("--max-rows", type=int, default=None, help="row limit (0: none)")

    def handle(self, *args, **options):
        days = options["days"]
        max_rows = options["max_rows"]
        days = settings.LOG_RETENTION_DAYS if days is None else days
        max_rows = settings.LOG_RETENTION_MAX_ROWS if max_rows is None else max_rows
        if days < 0 or max_rows < 0:
            raise CommandError("--days and --max-rows must be 0 or more.")
        deleted = log_entries_purge(retention_days=days, max_rows=max_rows)
        limits = f"{days or 'no'} days, {max_rows or 'no'} rows"
        self.stdout.write(f"Purged {deleted} log lines (retention: {limits}).")
