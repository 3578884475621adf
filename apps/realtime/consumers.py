from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from apps.core import metrics, outage
from apps.core.cache import UNREACHABLE
from apps.realtime.auth import socket_identity

# Close codes in the 4000 range are the application's: 4401 = not (or no longer) authenticated.
CLOSE_UNAUTHENTICATED = 4401
# RFC 6455 "Try Again Later": the channel layer's Redis did not take the socket's memberships
# (given before accepting, the handshake is refused: no socket opens during an outage).
CLOSE_TRY_AGAIN = 1013

# Right after Redis restarts, the channel layer's pooled connections to the old server fail once
# each, and a command can go unanswered on one (seen under `make faults`: a handshake hung until
# the client gave up). The joins at connect are retried on a fresh connection within this bound;
# past it the handshake is refused and the client tries again.
JOIN_SECONDS = 2.0
JOIN_RETRY_PAUSE_SECONDS = 0.1


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """`ws://HOST/ws/events?token=ACCESS`: relays `{"event", "data", "at"}` messages of the
    user's tenant (and, for cashiers, only of their stores).

    Access is not fixed at connect: the token's expiry is checked against the current time on
    every message in either direction (and a timer closes an idle socket when it expires); an
    `access.changed` message (a user's role, stores or active flag changed, or the company's
    status) makes the socket re-read the user and re-join exactly the groups now allowed (then it
    sends `{"event": "access.changed"}` so the client may reload its stores), or close;
    a revocation (logout-all, password change, deactivation) closes it at once. A closed socket
    leaves every group immediately, so nothing more is relayed to it.

    Redis: the joins at connect are retried for up to JOIN_SECONDS (right after a restart the
    first tries can fail or hang on the layer's old connections), then the handshake is refused
    (1013, try again later). A socket whose channel layer loses Redis ends with it (1011: the
    layer's receive fails), and the client reconnects: events sent meanwhile are lost, a
    reconnecting client reloads."""

    identity = None
    groups: frozenset[str] = frozenset()
    ended = False

    async def connect(self):
        self.identity = await database_sync_to_async(socket_identity)(self.scope)
        if self.identity is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            await self._join_within(frozenset(self.identity.groups), JOIN_SECONDS)
        except UNREACHABLE as error:
            outage.redis.failed(error, breaker=False)  # logged once per outage, no traceback
            self.identity = None  # nothing to leave on disconnect: Redis is not there
            self.groups = frozenset()
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        outage.redis.succeeded()
        await self.accept()
        metrics.WEBSOCKETS.inc()
        self._expiry = asyncio.get_running_loop().call_later(
            max(0.0, self.identity.expires_at - time.time()),
            lambda: asyncio.ensure_future(self._end()),
        )

    async def disconnect(self, code):
        if self.identity is None:
            return
        self._expiry.cancel()
        metrics.WEBSOCKETS.dec()
        await self._join(frozenset())

    async def _join(self, groups: frozenset[str]) -> None:
        """Makes `groups` this socket's exact memberships."""
        for group in self.groups - groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in groups - self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups = groups

    async def _join_within(self, groups: frozenset[str], seconds: float) -> None:
        """`_join`, retried after a Redis error (a failed connection is dropped by the client, so
        the next try gets a fresh one) and cut short when a command hangs; raises the last error
        (or TimeoutError) when `seconds` pass without success. Each try adds every group again
        (`self.groups` changes only on success): one added before a restart is gone after it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            try:
                await asyncio.wait_for(self._join(groups), max(0.0, deadline - loop.time()))
                return
            except UNREACHABLE:
                if loop.time() + JOIN_RETRY_PAUSE_SECONDS >= deadline:
                    raise
            await asyncio.sleep(JOIN_RETRY_PAUSE_SECONDS)

    async def _end(self) -> None:
        """Leaves every group, then closes with 4401 (once)."""
        if self.ended:
            return
        self.ended = True
        if self.identity is not None:
            self._expiry.cancel()
        metrics.WEBSOCKETS.dec()
        await self._join(frozenset())
        await self.close(code=CLOSE_UNAUTHENTICATED)

    def _expired(self) -> bool:
        return self.identity is not None and time.time() >= self.identity.expires_at

    async def receive_json(self, content, **kwargs):
        if self.ended:
            return
        if self._expired():
            await self._end()
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "data": {}, "at": None})

    async def event_message(self, message):
        if self.ended:
            return
        if self._expired():
            await self._end()
            return
        meant_for = message.get("groups")
        if meant_for is not None and not self.groups.intersection(meant_for):
            return  # queued for a group this socket has left since
        await self.send_json({key: message[key] for key in ("event", "data", "at")})

    async def sessions_revoked(self, message):
        await self._end()

    async def access_changed(self, message):
        if self.ended:
            return
        identity = await database_sync_to_async(socket_identity)(self.scope)
        if identity is None or identity.user_id != self.identity.user_id:
            await self._end()
            return
        self.identity = identity
        await self._join(frozenset(identity.groups))
        # tells the client its access changed (it may reload its stores), and marks the point
        # from which events follow the new memberships
        await self.send_json(
            {"event": "access.changed", "data": {}, "at": timezone.now().isoformat()}
        )
