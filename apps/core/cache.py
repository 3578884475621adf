"""The Redis cache backend the API uses: Django's, made to degrade instead of failing requests.

Redis holds caches and counters, never a record: when it cannot be reached (refused, reset, timed
out) a call does not raise. A read misses, a write is skipped — or, for a cache configured with
`"FALLBACK": "process"` (rate-limit and failed-login counters), goes to a per-process memory cache
meanwhile, so limits still hold per process instead of not at all. The `outage.redis` breaker
makes a dead Redis cost one fast failure per interval, not one timeout per call, and logs the
outage once. `probe()` asks Redis itself (readiness), whatever the breaker says.

The `shared` cache (users, company settings) must not fall back to a per-process copy: mutable data
is then read from the database per request (apps/core/shared_cache.py). Its invalidations cannot
reach a Redis that is down; an entry written before the outage still expires by its own short
timeout.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.core import outage

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

_MISSING = object()


class _ClientPerPool(RedisCacheClient):
    """Django's client, keeping one redis client per connection pool: Django builds a new one
    (with its table of response callbacks) for every call — a twentieth of a cached request's
    time. Redis clients are safe to share: each command takes a connection from the pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ClientPerPool
        self._fallback: LocMemCache | None = None
        if params.get("FALLBACK") == "process":
            local = {k: v for k, v in params.items() if k in ("KEY_PREFIX", "VERSION", "TIMEOUT")}
            for key in ("KEY_FUNCTION", "REVERSE_KEY_FUNCTION"):
                if key in params:
                    local[key] = params[key]
            self._fallback = LocMemCache(f"fallback:{server}:{id(self)}", local)

    def _call(self, name: str, miss: Any, *args: Any, **kwargs: Any) -> Any:
        if outage.redis.available():
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                outage.redis.failed(error)
            else:
                outage.redis.succeeded()
                return result
        if self._fallback is not None:
            return getattr(self._fallback, name)(*args, **kwargs)
        if miss is _MISSING:  # incr of a key that is not there: Django's ValueError
            raise ValueError(f"Key {args[0]!r} not found (cache unavailable).")
        return miss

    # Each of Django's cache operations, with what it answers while Redis is down.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", _MISSING, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", None)

    def counter_hit(self, key: str, timeout: int) -> int:
        """The counter `key` plus one, created expiring after `timeout` seconds when missing, in
        ONE round trip (SET NX EX and INCR pipelined): Django's incr is EXISTS then INCR, and a
        new window's add a third. While Redis is down: the process's counter (FALLBACK), else a
        ValueError as incr gives."""
        if outage.redis.available():
            try:
                full = self.make_and_validate_key(key)
                pipe = self._cache.get_client(full, write=True).pipeline(transaction=False)
                pipe.set(full, 0, ex=timeout, nx=True)
                pipe.incr(full)
                count = int(pipe.execute()[1])
            except UNREACHABLE as error:
                outage.redis.failed(error)
            else:
                outage.redis.succeeded()
                return count
        if self._fallback is None:
            raise ValueError(f"Key {key!r}: no counter (cache unavailable).")
        return counter_hit(self._fallback, key, timeout)

    def probe(self) -> bool:
        """Whether Redis answers now (a PING), past the breaker: for readiness."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except UNREACHABLE:
            return False


def counter_hit(cache, key: str, timeout: int) -> int:
    """The counter `key` of `cache` plus one, created (expiring after `timeout` s) when missing:
    one round trip on ResilientRedisCache, incr-then-add on any other cache. Two first hits
    racing to create it: `add` lets one win, the other increments what the winner created."""
    if isinstance(cache, ResilientRedisCache):
        return cache.counter_hit(key, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet in this window (or it just expired)
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired again in between: start the window afresh
            cache.set(key, 1, timeout)
            return 1
