"""Real-time events, published to the channel layer only after the surrounding transaction commits
(nothing is sent for a rolled-back change) and only to groups of the current tenant.

Every send is one trip from synchronous code into an event loop. Inside `events_batched()` —
every HTTP request, see RequestContextMiddleware — what commits is kept and sent in one trip when
the block ends (a checkout's sale and stock events: one trip instead of four); elsewhere it is
sent on commit.

Which loop: under an ASGI server, the server's (`async_to_sync` finds it; the in-memory channel
layer of `make run` must only be used from there). In a WSGI worker (gunicorn: mipos/wsgi.py
calls `use_process_loop()`), one loop per process in a daemon thread: `async_to_sync` would
start a thread and a new loop per send, and channels_redis keeps its connections per loop, so
every request would also open a new Redis connection. There the request does not wait for the
sends: it queues its batch for the process's one sender task (batches go out in commit order,
each group's messages in order), and answers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from apps.core import metrics, outage
from apps.core.cache import UNREACHABLE
from apps.core.renderers import camelize

logger = logging.getLogger("mipos.events")


class Outgoing(NamedTuple):
    groups: list[str]
    message: dict
    failure: str  # what the log says when it cannot be sent


_outbox: ContextVar[list[Outgoing] | None] = ContextVar("event_outbox", default=None)


@contextmanager
def events_batched() -> Iterator[None]:
    """Events committed inside the block are sent together when it ends (also when it raises:
    what committed, happened). Nested blocks send with the outermost."""
    if _outbox.get() is not None:
        yield
        return
    outbox: list[Outgoing] = []
    token = _outbox.set(outbox)
    try:
        yield
    finally:
        _outbox.reset(token)
        _deliver(outbox)


def _send_on_commit(outgoing: Outgoing) -> None:
    def committed() -> None:
        outbox = _outbox.get()
        if outbox is not None:
            outbox.append(outgoing)
        else:
            _deliver([outgoing])

    transaction.on_commit(committed)


_process_loop_wanted = False
_process_loop: tuple[int, asyncio.AbstractEventLoop, asyncio.Queue] | None = None
_process_loop_lock = threading.Lock()
SEND_TIMEOUT_SECONDS = 3  # a Redis that stopped answering: the sender gives up a batch after this
MAX_PENDING_BATCHES = 10_000  # a Redis that is slow, not down: beyond this, batches are dropped


def use_process_loop() -> None:
    """Sends from this process go through one long-lived event loop (WSGI workers; set once at
    start-up, before any request)."""
    global _process_loop_wanted
    _process_loop_wanted = True


def _sender_of_this_process() -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
    """The process's loop (a daemon thread) and the queue its one sender task reads: batches go
    out one after the other, in the order the requests committed them."""
    global _process_loop
    with _process_loop_lock:
        if _process_loop is None or _process_loop[0] != os.getpid():  # a forked worker: its own
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="event-sends", daemon=True).start()
            queue: asyncio.Queue = asyncio.Queue(maxsize=MAX_PENDING_BATCHES)
            asyncio.run_coroutine_threadsafe(_send_forever(queue), loop)
            _process_loop = (os.getpid(), loop, queue)
        return _process_loop[1], _process_loop[2]


def _enqueue(queue: asyncio.Queue, batch: tuple[Any, list[Outgoing]]) -> None:
    try:
        queue.put_nowait(batch)
    except asyncio.QueueFull:
        metrics.EVENTS_DROPPED.inc(len(batch[1]))


async def _send_forever(queue: asyncio.Queue) -> None:
    while True:
        layer, outbox = await queue.get()
        try:
            await _send_reported(layer, outbox, timeout=SEND_TIMEOUT_SECONDS)
        finally:
            queue.task_done()


async def _send_reported(layer, outbox: list[Outgoing], *, timeout: float | None = None) -> None:
    """Sends a batch and tells the Redis breaker how it went; never raises: the changes are
    committed, a lost push is counted (Redis down or too slow) or logged, the next goes on."""
    try:
        await asyncio.wait_for(_send_all(layer, outbox), timeout)
    except UNREACHABLE as error:  # the channel layer's Redis (or its timeout): logged once
        outage.redis.failed(error)
        metrics.EVENTS_DROPPED.inc(len(outbox))
    except Exception:
        logger.exception("could not publish events")
    else:
        outage.redis.succeeded()


def events_flush(timeout: float = SEND_TIMEOUT_SECONDS) -> None:
    """Waits until this process's queued events are sent (tests; a worker stopping)."""
    if _process_loop is None or _process_loop[0] != os.getpid():
        return
    _, loop, queue = _process_loop
    asyncio.run_coroutine_threadsafe(queue.join(), loop).result(timeout=timeout)


def _deliver(outbox: list[Outgoing]) -> None:
    """In a WSGI worker the batch is handed to the process's sender and the request goes on (the
    events are off its critical path: bench/writes.py measured their Redis round trips at a
    fifth of an adjustment's time); elsewhere (the ASGI server's loop, tests) it is sent now."""
    if not outbox:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    if not outage.redis.available():  # Redis known down: not a wait per request (core.outage)
        metrics.EVENTS_DROPPED.inc(len(outbox))
        return
    if _process_loop_wanted:
        loop, queue = _sender_of_this_process()
        loop.call_soon_threadsafe(_enqueue, queue, (layer, outbox))
        return
    async_to_sync(_send_reported)(layer, outbox)


async def _send_all(layer, outbox: list[Outgoing]) -> None:
    """Each group's messages in the order they committed; the groups side by side (a send is a
    few Redis round trips: a checkout's eight groups cost about one group's wait, not eight)."""
    by_group: dict[str, list[Outgoing]] = {}
    for outgoing in outbox:
        for group in outgoing.groups:
            by_group.setdefault(group, []).append(outgoing)
    listened = await _groups_with_members(layer, list(by_group))
    if listened is not None:
        by_group = {group: sent for group, sent in by_group.items() if group in listened}
    if not by_group:
        return
    if len(by_group) == 1:
        ((group, messages),) = by_group.items()
        await _send_group(layer, group, messages)
        return
    await asyncio.gather(
        *(_send_group(layer, group, messages) for group, messages in by_group.items())
    )


async def _groups_with_members(layer, groups: list[str]) -> set[str] | None:
    """With channels_redis: which of `groups` have a member now, asked in one pipelined round trip
    per Redis server (members past their expiry dropped first, as its group_send does), so a batch
    costs one trip for the groups nobody listens to instead of two per message and group. A socket
    joining in between is one that joined just after the send. Another layer: None (send all)."""
    if not isinstance(layer, RedisChannelLayer):
        return None
    by_server: dict[int, list[str]] = {}
    for group in groups:
        by_server.setdefault(layer.consistent_hash(group), []).append(group)
    oldest = int(time.time()) - layer.group_expiry
    listened: set[str] = set()
    for index, names in by_server.items():
        pipe = layer.connection(index).pipeline(transaction=False)
        for group in names:
            pipe.zremrangebyscore(layer._group_key(group), min=0, max=oldest)
            pipe.zcard(layer._group_key(group))
        counts = (await pipe.execute())[1::2]
        listened.update(group for group, count in zip(names, counts, strict=True) if count)
    return listened


async def _send_group(layer, group: str, messages: list[Outgoing]) -> None:
    for outgoing in messages:
        try:
            await layer.group_send(group, outgoing.message)
        except UNREACHABLE:
            raise  # Redis is down: the other sends would fail alike
        except Exception:  # one lost push must not stop the others
            logger.exception(outgoing.failure, extra={"group": group})


def tenant_group(schema: str) -> str:
    """Everyone signed in to the tenant: tenant-wide events."""
    return f"tenant.{schema}"


def all_stores_group(schema: str) -> str:
    """ADMIN/MANAGER: the events of every store."""
    return f"tenant.{schema}.stores"


def store_group(schema: str, store_id: Any) -> str:
    """Staff assigned to one store (cashiers see only their stores' events)."""
    return f"store.{schema}.{store_id}"


def user_group(user_id: Any) -> str:
    """Every open websocket of one user: closed when their sessions are revoked."""
    return f"user.{user_id}"


def event_message(event: str, data: dict) -> dict:
    """The one place a payload takes its wire form: JSON values, and the REST casing (camelCase
    keys, nested ones too — the same `camelize` the API renderer applies), whatever casing the
    publisher used (a settings change publishes its snake_case field names)."""
    return {
        "type": "event.message",
        "event": event,
        "data": camelize(json.loads(json.dumps(data, cls=DjangoJSONEncoder))),
        "at": timezone.now().isoformat(),
    }


def publish_event(
    event: str,
    data: dict,
    *,
    store_id: Any = None,
    store_ids: Iterable[Any] = (),
    schema: str | None = None,
) -> None:
    """Queue `event` for a tenant (by default the current one); sent when the current transaction
    commits. Store events (`store_id`, or several `store_ids`: a transfer) go to those stores'
    staff and, once, to the managers; others to everyone."""
    schema = schema or connection.schema_name
    stores = [store_id] if store_id is not None else list(dict.fromkeys(store_ids))
    if not stores:
        groups = [tenant_group(schema)]
    else:
        groups = [*(store_group(schema, store) for store in stores), all_stores_group(schema)]
    message = event_message(event, data)
    # The groups it is meant for: a socket whose membership changed after this was queued (a
    # cashier moved to another store) drops it instead of relaying it. Never sent to clients.
    message["groups"] = groups
    _send_on_commit(Outgoing(groups, message, f"could not publish event {event}"))


def publish_sessions_revoked(user_id: Any) -> None:
    """On commit, closes the user's open websockets (their tokens were just revoked)."""
    message = {"type": "sessions.revoked"}
    _send_on_commit(Outgoing([user_group(user_id)], message, "could not close revoked websockets"))


def publish_user_access_changed(user_id: Any) -> None:
    """On commit, makes every open websocket of the user re-read what it may hear (role, stores,
    active flag, company status): removed stores stop at once, added stores start, and a user who
    may no longer sign in is disconnected (4401). Call it from every write that changes a user's
    role, store assignments or active/deleted state (in that write's transaction)."""
    _send_on_commit(
        Outgoing([user_group(user_id)], {"type": "access.changed"}, "could not re-check sockets")
    )


def publish_tenant_access_changed(schema: str) -> None:
    """On commit, makes every open websocket of the tenant re-check its access (e.g. the company
    was suspended: they all close with 4401)."""
    _send_on_commit(
        Outgoing([tenant_group(schema)], {"type": "access.changed"}, "could not re-check sockets")
    )
