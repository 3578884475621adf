"""Rate-limit counters (`apps.core.cache.counter_hit`): one Redis round trip per request — the
window's counter created with its expiry when missing and incremented, pipelined — with the same
counts as the incr-then-add path of any other cache."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache

from apps.core import outage
from apps.core.cache import ResilientRedisCache, counter_hit
from apps.realtime.tests.redis_server import redis_url  # noqa: F401  (fixture)


def _redis_cache(url: str) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"KEY_PREFIX": f"counter-test-{uuid.uuid4().hex[:8]}"})


def test_each_hit_is_one_round_trip_and_counts_from_one(redis_url, monkeypatch):  # noqa: F811
    from redis.connection import AbstractConnection

    cache = _redis_cache(redis_url)
    outage.redis.succeeded()
    client = cache._cache.get_client("window", write=True)
    client.ping()  # the connection is open: what follows are the hits' own writes
    sent: list = []
    send = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    counts = [counter_hit(cache, "window", 30) for _ in range(3)]
    monkeypatch.undo()
    assert counts == [1, 2, 3]
    assert len(sent) == 3  # one write (SET NX EX + INCR together) per hit
    # the expiry the first hit set, not pushed back by the later ones
    assert 28 <= client.ttl(cache.make_and_validate_key("window")) <= 30


def test_parallel_first_hits_count_every_request_once(redis_url):  # noqa: F811
    cache = _redis_cache(redis_url)
    outage.redis.succeeded()
    barrier = threading.Barrier(8)
    counts: list[int] = []

    def hit() -> None:
        barrier.wait()
        counts.append(counter_hit(cache, "race", 30))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_another_cache_counts_the_same_way():
    cache = LocMemCache(f"counter-{uuid.uuid4().hex}", {})
    assert [counter_hit(cache, "window", 30) for _ in range(3)] == [1, 2, 3]


@pytest.fixture
def redis_down():
    outage.redis.failed(ConnectionError("test: Redis refused"))
    yield
    outage.redis.succeeded()


def test_while_redis_is_down_the_process_counts(redis_down):
    cache = ResilientRedisCache("redis://127.0.0.1:9/0", {"FALLBACK": "process"})
    assert [counter_hit(cache, "window", 30) for _ in range(2)] == [1, 2]


def test_one_redis_client_per_pool_serves_every_call(redis_url):  # noqa: F811
    """Django's backend built a new redis client for every call; ours keeps one per pool."""
    cache = _redis_cache(redis_url)
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is client
    cache.set("k", 7, 30)
    assert (cache.get("k"), cache._cache.get_client("k")) == (7, client)
