"""The shared cache (Redis; `caches["shared"]`) for mutable rows, without serving stale ones.

Rule: a per-process cache may only hold what never changes. A user row or a company's settings
change, so they are cached only in the `shared` cache — Redis, read by every process and reached by
every invalidation. Without Redis that alias is a dummy and they are read per request.

Invalidation: whoever changes such a row calls the drop function inside its transaction; the entry
is replaced at once by a short-lived marker and again when the transaction commits. A reader
stores a row with `add` (never over the marker), so a row read before the commit cannot be put back
after the commit's drop; while the marker lives, readers go to the database.

Used for the authenticated user (apps/users/cache.py) and the company settings
(apps/tenants/selectors.py). The Redis backend itself is apps/core/cache.py.

One round trip for both: inside a request (`shared_reads`, opened by RequestContextMiddleware) the
user is read together with the company's settings (`prefetch`: one MGET); the settings are then
taken from what this request read, never from an earlier request, and a drop in the request
forgets them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import transaction

logger = logging.getLogger("mipos.cache")

_DROPPED = "__dropped__"


def shared_cache():
    """The cache every process shares, or None when there is none (no Redis)."""
    cache = caches["shared"]
    return None if isinstance(cache, DummyCache) else cache


_MISSED = object()
# what the current request read ahead (key -> value, or _MISSED); None outside a request
_read_ahead: ContextVar[dict[str, Any] | None] = ContextVar("shared_read_ahead", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """One request's scope for entries read ahead (`prefetch`): they live until it ends."""
    token = _read_ahead.set({})
    try:
        yield
    finally:
        _read_ahead.reset(token)


def company_settings_key(tenant_id: Any) -> str:
    """The shared-cache key of a company's settings (read ahead with the signed-in user)."""
    return f"tenant-settings:{tenant_id}"


def shared_get_or_load(
    key: str,
    load: Callable[[], Any],
    seconds: int,
    *,
    for_cache: Callable[[Any], Any] = lambda value: value,
    prefetch: Iterable[str] = (),
) -> Any:
    """The value under `key` from the shared cache, else `load()` (stored — as `for_cache` makes
    it — for `seconds`, unless an invalidation marker is there). Without a shared cache, always
    `load()`. `prefetch`: other keys this request will ask for, read in the same round trip."""
    cache = shared_cache()
    if cache is None or seconds <= 0:
        return load()
    ahead = _read_ahead.get()
    if ahead is not None and key in ahead:
        value = ahead.pop(key)
        value = None if value is _MISSED else value
    elif ahead is not None and prefetch:
        keys = [key, *prefetch]
        found = cache.get_many(keys)
        value = found.get(key)
        ahead.update({k: found.get(k, _MISSED) for k in keys[1:]})
    else:
        value = cache.get(key)
    if value is not None and not (isinstance(value, str) and value == _DROPPED):
        return value
    fresh = load()
    if fresh is not None and value is None:
        cache.add(key, for_cache(fresh), seconds)
    return fresh


def shared_drop(keys: list[str], *, marker_seconds: int) -> None:
    """Invalidates `keys` in every process: now, and again when the current transaction commits
    (in case a request re-read the old row in between). A failing cache is logged, not raised:
    the change is committed; the entries then live at most their own timeout."""
    cache = shared_cache()
    if cache is None or not keys:
        return
    ahead = _read_ahead.get()
    if ahead is not None:  # read before this change: not to be used after it
        for key in keys:
            ahead.pop(key, None)

    def drop() -> None:
        try:
            cache.set_many(dict.fromkeys(keys, _DROPPED), max(1, marker_seconds))
        except Exception:
            logger.exception("could not invalidate cached entries", extra={"keys": keys[:10]})

    drop()
    transaction.on_commit(drop)
