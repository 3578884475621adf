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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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


def shared_get_or_load(
    key: str,
    load: Callable[[], Any],
    seconds: int,
    *,
    for_cache: Callable[[Any], Any] = lambda value: value,
) -> Any:
    """The value under `key` from the shared cache, else `load()` (stored — as `for_cache` makes
    it — for `seconds`, unless an invalidation marker is there). Without a shared cache, always
    `load()`."""
    cache = shared_cache()
    if cache is None or seconds <= 0:
        return load()
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

    def drop() -> None:
        try:
            cache.set_many(dict.fromkeys(keys, _DROPPED), max(1, marker_seconds))
        except Exception:
            logger.exception("could not invalidate cached entries", extra={"keys": keys[:10]})

    drop()
    transaction.on_commit(drop)
