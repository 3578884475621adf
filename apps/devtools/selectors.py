"""Reads of the log store."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.devtools.models import LogEntry
from apps.tenants.models import Tenant


def tenant_schema_of(*, tenant: str) -> str | None:
    """The schema of the company named by `tenant`: its id, its slug or its schema name; None
    when there is no such company."""
    value = tenant.strip()
    match = Q(slug=value) | Q(schema_name=value)
    with suppress(ValueError):
        match |= Q(pk=uuid.UUID(value))
    return Tenant.objects.filter(match).values_list("schema_name", flat=True).first()


def log_entry_list(
    *,
    min_level: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    search: str | None = None,
    request_id: str | None = None,
    tenant_schema: str | None = None,
) -> QuerySet[LogEntry]:
    """Stored log lines, newest first: at `min_level` or above, from `start` (inclusive) to
    `end` (exclusive), whose message or path contains `search` (any case), of one request, of
    one company (schema)."""
    rows = LogEntry.objects.all()
    if min_level is not None:
        rows = rows.filter(level_no__gte=min_level)
    if start is not None:
        rows = rows.filter(time__gte=start)
    if end is not None:
        rows = rows.filter(time__lt=end)
    if search:
        rows = rows.filter(Q(message__icontains=search) | Q(path__icontains=search))
    if request_id is not None:
        rows = rows.filter(request_id=request_id)
    if tenant_schema is not None:
        rows = rows.filter(tenant=tenant_schema)
    return rows.order_by("-time", "-id")
