"""`Idempotency-Key` for writes that move money or stock.

The first request with a key runs and its successful response is stored in the same transaction as
its writes; a retry with the same key and request (method, path, query string, body) gets that
response again (`Idempotent-Replayed: true`); the same key with a different request is 422; a
duplicate arriving while the first is still running is 409. Failed attempts (4xx/5xx) release the
key so the client may retry.

Who is running: the request that works on a key holds a session-level PostgreSQL advisory lock on
(tenant schema, user, key) from before its claim until after its response is stored (or its key
released), released in `finally` — and by PostgreSQL itself when its connection ends, so a worker
that crashed or was killed frees it at once. A session lock and not a transaction lock, because the
claim commits in its own short transaction before the view's transaction starts: a transaction
lock would be free between the two. A newcomer only *tries* the lock: if it is held, the first
request is still running → 409, however old its record; if it gets it and the record is still
IN_PROGRESS, nobody is running it any more → the newcomer takes the key over and runs.

Records are kept `IDEMPOTENCY_RETENTION_HOURS` (48 h by default), then deleted by
`manage.py purge_idempotency_keys` (every tenant) and, with no cron at all, by the requests
themselves: a completed request purges its tenant's expired keys at most once per
`IDEMPOTENCY_PURGE_INTERVAL_MINUTES` window (a shared-cache `add()` elects it), skipping rows
locked by others, so it neither blocks nor fails the request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.models import IdempotencyRecord

logger = logging.getLogger("mipos.idempotency")

HEADER = "Idempotency-Key"
# A claim that keeps finding the key changing under it (released, purged) gives up with a 409.
CLAIM_ATTEMPTS = 3
# The opportunistic purge deletes at most this many rows per request; the command loops.
PURGE_BATCH = 1000


def canonical_query(query: Mapping) -> str:
    """The query string with its parameters in key order (repeated keys keep their order)."""
    lists = query.lists() if hasattr(query, "lists") else ((k, [v]) for k, v in query.items())
    pairs = [(key, value) for key, values in lists for value in values]
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def request_fingerprint(*, method: str, path: str, query: Mapping, body) -> str:
    """Keyed (HMAC with the secret key), not a bare hash: a body may carry a secret — a
    manager's approval PIN or password — and a plain SHA-256 of a short PIN is reversed by
    trying every PIN."""
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    text = f"{method}\n{path}\n{canonical_query(query)}\n{canonical}"
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


# --- who is running a key: a session-level advisory lock ------------------------------------------
def _lock_name(*, user_id, key: str) -> str:
    return f"idempotency:{connection.schema_name}:{user_id}:{key}"


@contextmanager
def key_lock(*, user_id, key: str) -> Iterator[bool]:
    """Tries (never waits for) the lock of this user's key in this tenant; yields whether this
    connection got it, and releases it on exit."""
    name = _lock_name(user_id=user_id, key=key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [name])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        # A closed connection took its session, and so the lock, with it: nothing to release.
        if held and connection.connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])
            except DatabaseError:
                # The connection is broken, so its session (and the lock) is gone with it.
                logger.warning("idempotency: could not release the lock of %s", name)


def _in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed.",
        code=ErrorCode.IDEMPOTENCY_IN_PROGRESS,
    )


def idempotency_begin(
    *, user_id, key: str, method: str, path: str, fingerprint: str, lock_held: bool
) -> tuple[IdempotencyRecord, bool]:
    """Claims `key` for this request. Returns (record, is_replay). `lock_held` tells whether
    this request holds the key's lock (`key_lock`); without it the key can only be replayed or
    refused."""
    for _attempt in range(CLAIM_ATTEMPTS):
        if lock_held:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user_id=user_id, key=key, method=method, path=path, fingerprint=fingerprint
                    )
                return record, False
            except IntegrityError:
                pass
        record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if record is None:
            if lock_held:
                continue  # released or purged since our insert failed: claim it again
            raise _in_progress()  # its holder has the lock and no record yet (or just let go)
        if record.fingerprint != fingerprint:
            raise BusinessRuleViolation(
                "This Idempotency-Key was already used with a different request.",
                code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            )
        if record.state == IdempotencyRecord.State.COMPLETED:
            return record, True
        if not lock_held:
            raise _in_progress()  # its holder is still running, however long ago it started
        # IN_PROGRESS, yet nobody holds its lock: the request that claimed it is gone. Take over.
        now = timezone.now()
        if IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS
        ).update(created_at=now):
            record.created_at = now
            logger.warning("idempotency: key %r of user %s taken over", key, user_id)
            return record, False
    raise _in_progress()


def idempotency_complete(*, record: IdempotencyRecord, response: Response) -> None:
    body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=response.status_code,
        response_body={"enveloped": bool(getattr(response, "enveloped", False)), "data": body},
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS
    ).delete()


def replay_response(record: IdempotencyRecord) -> Response:
    response = Response(
        record.response_body["data"],
        status=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )
    response.enveloped = record.response_body["enveloped"]
    return response


# --- retention ------------------------------------------------------------------------------------
def retention_cutoff(*, now: datetime | None = None, hours: int | None = None) -> datetime:
    hours = settings.IDEMPOTENCY_RETENTION_HOURS if hours is None else hours
    return (now or timezone.now()) - timedelta(hours=hours)


def idempotency_purge(*, before: datetime, limit: int | None = None) -> int:
    """Deletes this tenant's keys created before `before` (at most `limit` rows when given) and
    returns how many. Rows another transaction has locked are skipped, never waited for."""
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # the table name is the model's; the values are parameters
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE created_at < %s "  # noqa: S608
            "ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            [before, limit],  # LIMIT NULL: no limit
        )
        return cursor.rowcount


def idempotency_purge_due(*, now: datetime | None = None) -> int:
    """The schedule that needs no cron: called after a completed request, it purges this tenant's
    expired keys (one batch) if no request did so in the current purge window. The window's key
    lives in the shared, schema-prefixed cache, so one request per tenant and window does it
    (per process without Redis). Never raises."""
    interval = settings.IDEMPOTENCY_PURGE_INTERVAL_MINUTES * 60
    if interval <= 0:
        return 0
    now = now or timezone.now()
    window = int(now.timestamp()) // interval
    try:
        if not cache.add(f"idempotency:purge:{window}", 1, timeout=interval * 2):
            return 0
        with transaction.atomic():
            return idempotency_purge(before=retention_cutoff(now=now), limit=PURGE_BATCH)
    except Exception:  # a purge must never fail the request it runs after
        logger.exception("idempotency: opportunistic purge failed")
        return 0


def idempotent(view_method):
    """Decorates a DRF view method (or viewset action) to honour the `Idempotency-Key` header.
    Meant to run outside any transaction: inside one, neither the claim nor the response is
    visible to other requests before the outer transaction commits."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255:
            raise ValidationFailed.for_field(HEADER, "Must be 1 to 255 characters.")
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.path_info,
            query=request.query_params,
            body=request.data,
        )
        with key_lock(user_id=request.user.pk, key=key) as held:
            record, is_replay = idempotency_begin(
                user_id=request.user.pk,
                key=key,
                method=request.method,
                path=request.path_info,
                fingerprint=fingerprint,
                lock_held=held,
            )
            if is_replay:
                return replay_response(record)
            try:
                with transaction.atomic():
                    response = view_method(self, request, *args, **kwargs)
                    if 200 <= response.status_code < 300:
                        idempotency_complete(record=record, response=response)
                    else:
                        transaction.set_rollback(True)
            except BaseException:
                try:
                    idempotency_release(record=record)
                except DatabaseError:  # connection lost: the lock went with it; a retry takes over
                    logger.warning("idempotency: could not release key %r", key)
                raise
            if not 200 <= response.status_code < 300:
                idempotency_release(record=record)
                return response
        idempotency_purge_due()
        return response

    return wrapper
