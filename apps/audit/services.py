from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from apps.audit.models import AuditLog
from apps.core.context import current

# Never stored, whatever the caller passes.
_SECRET_MARKERS = ("password", "token", "secret")


def _is_secret(key: Any) -> bool:
    return isinstance(key, str) and any(marker in key.lower() for marker in _SECRET_MARKERS)


def secrets_dropped(value: Any) -> Any:
    """`value` without any entry whose key names a secret, at any depth (dicts inside lists
    inside dicts too)."""
    if isinstance(value, dict):
        return {key: secrets_dropped(item) for key, item in value.items() if not _is_secret(key)}
    if isinstance(value, list | tuple):
        return [secrets_dropped(item) for item in value]
    return value


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return json.loads(json.dumps(secrets_dropped(values), cls=DjangoJSONEncoder))


def changed_fields(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict | None, dict | None]:
    """Keeps only the fields whose value differs (both sides), for updates."""
    if before is None or after is None:
        return before, after
    keys = [key for key in after if key not in before or before[key] != after[key]]
    # facts only known afterwards (counts, outcomes) have no "before" side
    return {key: before[key] for key in keys if key in before}, {key: after[key] for key in keys}


def audit_record(
    *,
    action: str,
    entity_type: str,
    entity_id: Any = "",
    actor=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    tenant=None,
    reason: str = "",
) -> AuditLog:
    """Writes one audit row in the caller's transaction (tenant: the current schema's).
    `reason` (an operator's, from the console) is kept as `after["reason"]`."""
    entry = audit_entry(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        before=before,
        after=after,
        tenant=tenant,
        reason=reason,
    )
    entry.save(force_insert=True)
    return entry


def audit_entry(
    *,
    action: str,
    entity_type: str,
    entity_id: Any = "",
    actor=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    tenant=None,
    reason: str = "",
) -> AuditLog:
    """The audit row `audit_record` writes, unsaved: for a service that writes it in the same
    round trip as its own rows (`apps.core.db.rows_insert`), in the same transaction."""
    if tenant is None:
        tenant = getattr(connection, "tenant", None)
        if tenant is not None and getattr(tenant, "pk", None) is None:
            tenant = None  # django-tenants' FakeTenant for the public schema
    before, after = changed_fields(_scrub(before), _scrub(after))
    if reason:
        # added after the diff: as part of `after` it would empty a deletion's `before` (no key
        # of `before` is in such an `after`)
        after = {**(after or {}), "reason": reason}
    ctx = current()
    actor_is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog(
        tenant=tenant,
        actor=actor if actor_is_user else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id or ""),
        before=before,
        after=after,
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
    )


OPERATOR_ACCESS = "operator.access"


def _query_without_secrets(query: str) -> str:
    return "&".join(
        part for part in query.split("&") if part and not _is_secret(part.split("=", 1)[0])
    )


def operator_access_record(
    *,
    operator,
    tenant,
    method: str,
    path: str,
    query: str,
    reason: str,
    status: int,
) -> list[AuditLog]:
    """One request a platform operator made inside `tenant` (apps.core.operator), on both trails:
    the company's (tenant = the company, which its admins read at `GET /audit?action=
    operator.access`) and the platform's (tenant = null). One INSERT, its own transaction."""
    after = {
        "method": method,
        "path": path[:500],
        "query": _query_without_secrets(query)[:1000],
        "reason": reason,
        "status": status,
    }
    rows = []
    for trail in (tenant, None):
        entry = audit_entry(
            action=OPERATOR_ACCESS,
            entity_type="tenant",
            entity_id=tenant.pk,
            actor=operator,
            after=after,
            tenant=tenant,
        )
        entry.tenant = trail  # `tenant=None` would mean "the current schema's"
        rows.append(entry)
    with transaction.atomic():
        AuditLog.objects.bulk_create(rows)
    return rows


@contextmanager
def audit_maintenance():
    """Lets the enclosed transaction delete audit rows (tests' and benchmarks' own clean-up only;
    no API or admin path uses it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL mipos.audit_maintenance = 'on'")
        yield
