"""Writes of the log store: batches of log lines (scrubbed) and the retention purge."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.audit.services import secrets_dropped  # the one key-based scrubber
from apps.core.db import rows_insert
from apps.core.logging import text_redacted, value_redacted  # the one text scrubber
from apps.devtools.models import LogEntry

MESSAGE_MAX_CHARS = 10_000
TRACEBACK_MAX_CHARS = 50_000


def extra_scrubbed(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """The extras as JSON: entries whose key names a password, token or secret dropped at every
    depth (the audit trail's scrubber), other credentials and credential-looking text redacted
    (`apps.core.logging.value_redacted`, as on stdout)."""
    if not extra:
        return {}
    plain = json.loads(json.dumps(secrets_dropped(dict(extra)), default=str))
    return value_redacted(plain)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _row_of(entry: Mapping[str, Any]) -> LogEntry:
    """The row of one queued entry (`apps.devtools.log_store.record_entry`), scrubbed and cut to
    the columns' sizes."""
    status = _int_or_none(entry.get("status"))
    return LogEntry(
        id=uuid.uuid4(),
        time=entry.get("time") or timezone.now(),
        level=str(entry.get("level", ""))[:10],
        level_no=max(0, _int_or_none(entry.get("level_no")) or 0),
        logger=str(entry.get("logger", ""))[:100],
        message=text_redacted(str(entry.get("message", "")))[:MESSAGE_MAX_CHARS],
        request_id=str(entry.get("request_id") or "")[:64],
        tenant=(str(entry["tenant"])[:63] if entry.get("tenant") else None),
        user_id=_uuid_or_none(entry.get("user_id")),
        method=str(entry.get("method") or "")[:10],
        path=text_redacted(str(entry.get("path") or ""))[:1024],
        status=status if status is not None and 0 <= status < 1000 else None,
        duration_ms=_float_or_none(entry.get("duration_ms")),
        exception_type=str(entry.get("exception_type") or "")[:200],
        traceback=text_redacted(str(entry.get("traceback") or ""))[-TRACEBACK_MAX_CHARS:],
        extra=extra_scrubbed(entry.get("extra")),
    )


def log_entries_write(*, entries: Iterable[Mapping[str, Any]]) -> int:
    """Stores a batch of queued log entries with one multi-row INSERT in the caller's connection
    (the flusher thread's own; a test's). Returns the number of rows written."""
    rows = [_row_of(entry) for entry in entries]
    if rows:
        rows_insert(rows)
    return len(rows)


def log_entries_purge(*, retention_days: int, max_rows: int, now: datetime | None = None) -> int:
    """Applies the retention: deletes the lines older than `retention_days` (0 or less: no age
    limit), then all but the newest `max_rows` (0 or less: no size limit). Returns the number
    of rows deleted."""
    deleted = 0
    if retention_days > 0:
        cutoff = (now or timezone.now()) - timedelta(days=retention_days)
        deleted += LogEntry.objects.filter(time__lt=cutoff).delete()[0]
    if max_rows > 0:
        # the newest line that no longer fits (in the viewer's order): it and all older go
        newest_first = LogEntry.objects.order_by("-time", "-id").values_list("time", "id")
        boundary = next(iter(newest_first[max_rows : max_rows + 1]), None)
        if boundary is not None:
            time, pk = boundary
            older = Q(time__lt=time) | Q(time=time, id__lte=pk)
            deleted += LogEntry.objects.filter(older).delete()[0]
    return deleted
