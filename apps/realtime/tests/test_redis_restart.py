"""A websocket's group joins when the channel layer's Redis misbehaves (bench/faults.py, `make
faults`): right after a restart a pooled connection to the old server fails once, or a command on
one is never answered. The joins at connect are retried on a fresh connection; past JOIN_SECONDS
the handshake is refused (1013, try again later) with nothing joined, and the outage is logged
once (core.outage) instead of a traceback per handshake."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.core import outage
from apps.core.events import publish_event, store_group
from apps.realtime import consumers
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db

REFUSED = (False, 1013)  # the handshake is refused: try again later


def socket_for(user) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", b"localhost")]
    )


def run(scenario) -> None:
    async_to_sync(scenario)()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def call(fn):
        with django_capture_on_commit_callbacks(execute=True):
            fn()

    return sync_to_async(call)


@pytest.fixture
def layer():
    """An in-process channel layer for the sockets (also when REDIS_URL is set): the tests make
    its group_add fail the way a restarted Redis does."""
    in_memory = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=in_memory):
        channel_layers.backends.clear()
        try:
            yield get_channel_layer()
        finally:
            channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def redis_known_up():
    """The Redis breaker is per process: each test starts and ends with it closed."""
    outage.redis.succeeded()
    yield
    outage.redis.succeeded()


def members(layer, group: str) -> set[str]:
    return set(layer.groups.get(group, {}))


def store_event(world, name: str):
    return lambda: publish_event(
        "store.updated",
        {"name": name},
        store_id=world.store.pk,
        schema=world.tenant.schema_name,
    )


def test_a_join_failing_on_a_stale_connection_is_retried_and_the_socket_hears(
    world_a, layer, committed, monkeypatch
):
    real_group_add = layer.group_add
    tried: list[str] = []

    async def stale_once(group, channel):
        tried.append(group)
        if len(tried) == 1:  # the pooled connection to the server that was restarted
            raise RedisConnectionError("Connection closed by server.")
        await real_group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", stale_once)
    cashier = socket_for(world_a.cashier)
    schema = world_a.tenant.schema_name

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(store_event(world_a, "After the restart"))
        message = await cashier.receive_json_from(timeout=2)
        assert (message["event"], message["data"]) == (
            "store.updated",
            {"name": "After the restart"},
        )
        await cashier.disconnect()

    run(scenario)
    # the cashier's three groups (tenant, user, store), the failed one tried twice
    assert len(tried) == 4
    assert set(tried) == {
        f"tenant.{schema}",
        f"user.{world_a.cashier.pk}",
        store_group(schema, world_a.store.pk),
    }
    assert tried.count(tried[0]) == 2
    assert outage.redis.down is False


def test_a_join_that_is_never_answered_refuses_the_handshake_with_1013(
    world_a, layer, committed, monkeypatch
):
    monkeypatch.setattr(consumers, "JOIN_SECONDS", 0.3)

    async def unanswered(group, channel):
        await asyncio.Event().wait()

    monkeypatch.setattr(layer, "group_add", unanswered)
    cashier = socket_for(world_a.cashier)

    async def scenario():
        started = asyncio.get_running_loop().time()
        assert await cashier.connect(timeout=2) == REFUSED
        assert 0.3 <= asyncio.get_running_loop().time() - started < 1.5
        assert outage.redis.down is True
        await committed(store_event(world_a, "Unheard"))
        assert await cashier.receive_nothing(timeout=0.2)
        await cashier.disconnect()  # nothing to leave, no error

    run(scenario)


def test_redis_down_at_connect_refuses_with_1013_and_the_next_connect_after_it_is_back_joins(
    world_a, layer, committed, monkeypatch, caplog
):
    monkeypatch.setattr(consumers, "JOIN_SECONDS", 0.3)
    real_group_add = layer.group_add
    down = True

    async def maybe_refused(group, channel):
        if down:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        await real_group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", maybe_refused)
    first, second = socket_for(world_a.cashier), socket_for(world_a.cashier)
    group = store_group(world_a.tenant.schema_name, world_a.store.pk)

    async def scenario():
        nonlocal down
        assert await first.connect(timeout=2) == REFUSED
        await first.disconnect()
        down = False
        assert (await second.connect())[0]
        await committed(store_event(world_a, "Back"))
        message = await second.receive_json_from(timeout=2)
        assert message["data"] == {"name": "Back"}
        await second.disconnect()

    with caplog.at_level("WARNING", logger="mipos.outage"):
        run(scenario)
    # the outage: one line when it started, one when it ended (no traceback per handshake)
    started, ended = [r.getMessage() for r in caplog.records if r.name == "mipos.outage"]
    assert started == "redis unavailable: ConnectionError: Error 111 connecting to 127.0.0.1:6379."
    assert ended.startswith("redis available again after ")
    assert ended.endswith(" s (1 failed calls meanwhile)")
    assert members(layer, group) == set()  # the second socket left on disconnect
    assert outage.redis.down is False
