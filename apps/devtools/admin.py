from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.devtools.models import LogEntry


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Read-only: the lines are written by the log store and removed by its retention only."""

    list_display = ("time", "level", "logger", "status", "method", "path", "tenant", "request_id")
    list_filter = ("level", "logger")
    search_fields = ("message", "path", "=request_id", "=tenant", "exception_type")
    date_hierarchy = "time"
    ordering = ("-time", "-id")
    show_full_result_count = False  # no COUNT(*) of the whole table on every page
