from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.core.events import (
    all_stores_group,
    event_message,
    events_batched,
    publish_event,
    publish_sessions_revoked,
    store_group,
    tenant_group,
)
from apps.realtime.tests.redis_server import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def listener(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def pending(channel: str) -> list[dict]:
    layer = get_channel_layer()
    messages = []
    while True:
        queue = layer.channels.get(channel)
        if not queue or queue.empty():
            return messages
        messages.append(async_to_sync(layer.receive)(channel))


@pytest.fixture(autouse=True)
def fresh_layer():
    async_to_sync(get_channel_layer().flush)()


def test_event_is_sent_after_commit_to_its_tenant_only(
    world_a, world_b, django_capture_on_commit_callbacks
):
    a = listener(tenant_group(world_a.tenant.schema_name))
    b = listener(tenant_group(world_b.tenant.schema_name))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("tenant.settings.updated", {"currency": "EUR"})
        assert pending(a) == []  # nothing before the commit
    messages = pending(a)
    assert [(m["event"], m["data"]) for m in messages] == [
        ("tenant.settings.updated", {"currency": "EUR"})
    ]
    assert messages[0]["at"].endswith("+00:00")
    assert pending(b) == []


def test_nothing_is_sent_when_the_transaction_rolls_back(
    world_a, django_capture_on_commit_callbacks
):
    a = listener(tenant_group(world_a.tenant.schema_name))
    with (
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(world_a.tenant),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        publish_event("stock.updated", {"qty": 1})
        raise RuntimeError("rolled back")
    assert pending(a) == []


def test_store_events_reach_the_store_and_the_all_stores_groups(
    world_a, django_capture_on_commit_callbacks
):
    schema = world_a.tenant.schema_name
    store, other_store = (
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    )
    own, managers, other, everyone = (
        listener(store_group(schema, store)),
        listener(all_stores_group(schema)),
        listener(store_group(schema, other_store)),
        listener(tenant_group(schema)),
    )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("sale.completed", {"total": "9.99"}, store_id=store)
    assert [m["event"] for m in pending(own)] == ["sale.completed"]
    assert [m["event"] for m in pending(managers)] == ["sale.completed"]
    assert pending(other) == []
    assert pending(everyone) == []


def test_a_batch_sends_what_committed_in_one_trip_when_it_ends(
    world_a, trips, django_capture_on_commit_callbacks
):
    everyone = listener(tenant_group(world_a.tenant.schema_name))
    with events_batched():
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
            with transaction.atomic():
                publish_event("first", {})
            with pytest.raises(RuntimeError), transaction.atomic():
                publish_event("rolled.back", {})
                raise RuntimeError("rolled back")
            with transaction.atomic():
                publish_event("second", {})
                publish_sessions_revoked("11111111-1111-1111-1111-111111111111")
        assert pending(everyone) == [] and trips == []  # committed, held until the block ends
    assert trips == [["first", "second", "sessions.revoked"]]
    assert [m["event"] for m in pending(everyone)] == ["first", "second"]


def test_a_nested_batch_sends_with_the_outermost_and_a_raising_block_still_sends(
    world_a, trips, django_capture_on_commit_callbacks
):
    everyone = listener(tenant_group(world_a.tenant.schema_name))
    with pytest.raises(RuntimeError), events_batched():
        with (
            events_batched(),
            django_capture_on_commit_callbacks(execute=True),
            tenant_context(world_a.tenant),
        ):
            publish_event("committed", {})
        assert trips == []
        raise RuntimeError("the request failed after its change committed")
    assert trips == [["committed"]]
    assert [m["event"] for m in pending(everyone)] == ["committed"]


def test_outside_a_batch_each_commit_sends_at_once(
    world_a, trips, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("one", {})
    assert trips == [["one"]]
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("two", {})
    assert trips == [["one"], ["two"]]


def test_a_wsgi_worker_queues_its_sends_for_one_sender_of_its_own(
    world_a, monkeypatch, django_capture_on_commit_callbacks
):
    """gunicorn workers (mipos/wsgi.py): the request hands its batch to the process's one sender
    (its own event loop, in its own thread) and goes on without waiting; the sender sends the
    batches in the order they committed."""
    import asyncio
    import threading

    from apps.core import events

    monkeypatch.setattr(events, "_process_loop_wanted", True)
    where: list[tuple[str, int]] = []
    held = threading.Event()
    send_all = events._send_all

    async def observed(layer, outbox):
        where.append((threading.current_thread().name, id(asyncio.get_running_loop())))
        await asyncio.get_running_loop().run_in_executor(None, held.wait, 5)
        await send_all(layer, outbox)

    monkeypatch.setattr(events, "_send_all", observed)
    everyone = listener(tenant_group(world_a.tenant.schema_name))
    for name in ("first", "second"):
        with (
            events_batched(),
            django_capture_on_commit_callbacks(execute=True),
            tenant_context(world_a.tenant),
        ):
            publish_event(name, {"n": 1})
    assert pending(everyone) == []  # both requests ended while the sender was held
    held.set()
    events.events_flush()
    assert [m["event"] for m in pending(everyone)] == ["first", "second"]
    assert [thread for thread, _ in where] == ["event-sends", "event-sends"]
    assert where[0][1] == where[1][1]  # the same loop both times


def test_groups_are_sent_side_by_side_each_in_commit_order():
    """A batch's groups are sent concurrently (each send is Redis round trips: a checkout's eight
    groups wait about one group's time), and each group gets its messages in the order they
    committed. The store's send below waits until the managers' send has started: sent one
    group after the other, it would wait forever."""
    import asyncio

    from apps.core import events

    started: dict[str, asyncio.Event] = {}
    sent: list[tuple[str, str]] = []

    class Layer:
        async def group_send(self, group, message):
            started.setdefault(group, asyncio.Event()).set()
            if group == "store":
                await asyncio.wait_for(started.setdefault("managers", asyncio.Event()).wait(), 2)
            sent.append((group, message["event"]))

    outbox = [
        events.Outgoing(["store", "managers"], {"event": "sale.completed"}, "x"),
        events.Outgoing(["store", "managers"], {"event": "stock.updated"}, "x"),
        events.Outgoing(["everyone"], {"event": "customer.updated"}, "x"),
    ]
    asyncio.run(events._send_all(Layer(), outbox))
    assert sorted(sent) == sorted(
        [
            ("store", "sale.completed"),
            ("store", "stock.updated"),
            ("managers", "sale.completed"),
            ("managers", "stock.updated"),
            ("everyone", "customer.updated"),
        ]
    )
    for group in ("store", "managers"):
        assert [event for g, event in sent if g == group] == ["sale.completed", "stock.updated"]


def test_with_redis_groups_nobody_listens_to_cost_one_trip_and_get_nothing(redis_url):  # noqa: F811
    """channels_redis: one pipelined round trip asks which of a batch's groups have members;
    only those are sent to (each send is two more round trips per message), and what is sent
    arrives."""
    import asyncio
    import uuid

    from channels_redis.core import RedisChannelLayer

    from apps.core import events

    layer = RedisChannelLayer(hosts=[redis_url], prefix=f"events-test-{uuid.uuid4().hex[:8]}")
    sent: list[str] = []
    group_send = layer.group_send

    async def counted(group, message):
        sent.append(group)
        await group_send(group, message)

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("store.listened", channel)
        layer.group_send = counted
        outbox = [
            events.Outgoing(
                ["store.listened", "store.empty"], event_message("sale.completed", {}), "x"
            ),
            events.Outgoing(["store.empty"], event_message("stock.updated", {}), "x"),
        ]
        await events._send_all(layer, outbox)
        received = await asyncio.wait_for(layer.receive(channel), 2)
        await layer.flush()
        return received

    received = asyncio.run(scenario())
    assert sent == ["store.listened"]
    assert received["event"] == "sale.completed"
