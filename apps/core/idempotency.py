"""`Idempotency-Key` for writes that move money or stock.

The first request with a key runs and its successful response is stored in the same transaction as
its writes; a retry with the same key and body gets that response again (`Idempotent-Replayed:
true`); the same key with a different body is 422; a duplicate arriving while the first is still
running is 409. Failed attempts (4xx/5xx) release the key so the client may retry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# A key left IN_PROGRESS by a crashed worker may be taken over after this long.
IN_PROGRESS_TIMEOUT = timedelta(minutes=5)


def request_fingerprint(*, method: str, path: str, body) -> str:
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def idempotency_begin(
    *, user_id, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """Claims `key` for this request. Returns (record, is_replay)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user_id=user_id, key=key, method=method, path=path, fingerprint=fingerprint
            )
        return record, False
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(user_id=user_id, key=key)
    if record.fingerprint != fingerprint:
        raise BusinessRuleViolation(
            "This Idempotency-Key was already used with a different request.",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return record, True
    stale = record.created_at < now - IN_PROGRESS_TIMEOUT
    if stale and IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, created_at=record.created_at
    ).update(created_at=now):
        record.created_at = now
        return record, False
    raise Conflict(
        "A request with this Idempotency-Key is still being processed.",
        code=ErrorCode.IDEMPOTENCY_IN_PROGRESS,
    )


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


def idempotent(view_method):
    """Decorates a DRF view method (or viewset action) to honour the `Idempotency-Key` header."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255:
            raise ValidationFailed.for_field(HEADER, "Must be 1 to 255 characters.")
        fingerprint = request_fingerprint(
            method=request.method, path=request.path_info, body=request.data
        )
        record, is_replay = idempotency_begin(
            user_id=request.user.pk,
            key=key,
            method=request.method,
            path=request.path_info,
            fingerprint=fingerprint,
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
            idempotency_release(record=record)
            raise
        if not 200 <= response.status_code < 300:
            idempotency_release(record=record)
        return response

    return wrapper
