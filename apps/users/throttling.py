"""Failed-login throttling per client IP and per account; refused discount approvals per
approver (apps.sales.approval).

The counters are platform-wide: they live in the `platform` cache (no schema in the key; Redis
when configured, else this process's memory). The default cache prefixes every key with the
routed schema, and an anonymous request on a tenant domain is routed to that tenant, so counters
kept there gave every tenant domain a fresh budget for the same account and the same IP."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches

from apps.core.errors import RateLimited


def _account(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _keys(ip: str | None, email: str) -> list[tuple[str, int]]:
    account = _account(email)
    return [
        (f"login-fail:ip:{ip or 'unknown'}", settings.LOGIN_FAILURES_PER_IP),
        (f"login-fail:acct:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT),
    ]


def _cache():
    return caches["platform"]


def _window_full_check(key: str, limit: int, window: int, message: str) -> None:
    """429 (with the seconds until `key`'s window resets) once `limit` failures are counted."""
    cache = _cache()
    if (cache.get(key) or 0) >= limit:
        now = time.time()
        reset_at = cache.get(f"{key}:reset") or now + window
        raise RateLimited(message, retry_after=int(reset_at - now) + 1)


def login_attempt_check(*, ip: str | None, email: str) -> None:
    """Raises 429 (with the seconds until the window resets) once a limit is reached."""
    for key, limit in _keys(ip, email):
        _window_full_check(
            key,
            limit,
            settings.LOGIN_FAILURE_WINDOW_SECONDS,
            "Too many failed sign-in attempts. Retry later.",
        )


def _window_count(key: str, window: int) -> int:
    """One more against `key` in its fixed window (started by the first); the count so far."""
    cache = _cache()
    if cache.add(key, 0, window):
        cache.set(f"{key}:reset", time.time() + window, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def login_failure_record(*, ip: str | None, email: str) -> None:
    for key, _limit in _keys(ip, email):
        _window_count(key, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_failures_clear(*, email: str) -> None:
    cache = _cache()
    for key, _limit in _keys(None, email)[1:]:
        cache.delete_many([key, f"{key}:reset"])


def _window_hit(key: str, limit: int, window: int, message: str) -> None:
    """Counts one attempt against `key`; 429 (with the seconds left) once `limit` is passed."""
    if _window_count(key, window) > limit:
        now = time.time()
        reset_at = _cache().get(f"{key}:reset") or now + window
        raise RateLimited(message, retry_after=int(reset_at - now) + 1)


def password_recovery_take(*, ip: str | None, email: str) -> None:
    """Counts a `forgot-password` request per client IP and per address (whether or not an
    account has it: the limit itself tells nothing), platform-wide."""
    account = _account(email)
    window = settings.PASSWORD_RECOVERY_WINDOW_SECONDS
    message = "Too many password reset requests. Retry later."
    for key, limit in (
        (f"recovery:ip:{ip or 'unknown'}", settings.PASSWORD_RECOVERY_PER_IP),
        (f"recovery:acct:{account}", settings.PASSWORD_RECOVERY_PER_EMAIL),
    ):
        _window_hit(key, limit, window, message)


def _approval_key(*, tenant_id, approver: str) -> str:
    # per company: a manager's secret is only ever checked in their own company (see
    # apps.users.services.approver_verify), so another company's guesses need not lock them out
    return f"approval-fail:{tenant_id}:{approver}"


def approval_attempt_check(*, tenant_id, approver: str) -> None:
    """429 (with the seconds until the window resets) once an approver has had
    APPROVAL_FAILURES_PER_APPROVER refused approvals in the window: a PIN of 4 digits is not
    guessed at the till's speed."""
    _window_full_check(
        _approval_key(tenant_id=tenant_id, approver=approver),
        settings.APPROVAL_FAILURES_PER_APPROVER,
        settings.APPROVAL_FAILURE_WINDOW_SECONDS,
        "Too many refused approvals for this approver. Retry later.",
    )


def approval_failure_record(*, tenant_id, approver: str) -> None:
    _window_count(
        _approval_key(tenant_id=tenant_id, approver=approver),
        settings.APPROVAL_FAILURE_WINDOW_SECONDS,
    )


def approval_failures_clear(*, tenant_id, approver: str) -> None:
    key = _approval_key(tenant_id=tenant_id, approver=approver)
    _cache().delete_many([key, f"{key}:reset"])
