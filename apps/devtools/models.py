from __future__ import annotations

import logging
import uuid

from django.db import models

# The levels a viewer may ask for (`?level=` is a minimum), by name.
LEVELS: dict[str, int] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}


class LogEntry(models.Model):
    """One structured log line — a request's line (`mipos.request`) or an error — as the JSON
    formatter prints it, kept in the public schema for the dev-tools viewer.

    Written only by `apps.devtools.services.log_entries_write` (in batches, off the request path)
    with secrets scrubbed; bounded by age and row count (`log_entries_purge`). The tenant is the
    schema name of the request's company (not a foreign key: a line outlives its company and must
    never block deleting one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    time = models.DateTimeField()
    level = models.CharField(max_length=10)
    level_no = models.PositiveSmallIntegerField()
    logger = models.CharField(max_length=100)
    message = models.TextField()
    request_id = models.CharField(max_length=64, blank=True)
    # the company's schema name; null: no company (a platform request, a background task)
    tenant = models.CharField(max_length=63, null=True, blank=True)  # noqa: DJ001
    user_id = models.UUIDField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=1024, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    exception_type = models.CharField(max_length=200, blank=True)
    traceback = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = "log entry"
        verbose_name_plural = "log entries"
        indexes = [
            models.Index(fields=["-time", "-id"], name="devtools_log_time_idx"),
            models.Index(fields=["level_no", "-time"], name="devtools_log_level_time_idx"),
            models.Index(fields=["request_id"], name="devtools_log_request_idx"),
            models.Index(fields=["tenant", "-time"], name="devtools_log_tenant_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.level} {self.logger}: {self.message[:80]}"
