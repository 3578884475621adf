from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.realtime.auth import socket_identity

# Close codes in the 4000 range are the application's: 4401 = not (or no longer) authenticated.
CLOSE_UNAUTHENTICATED = 4401


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """`ws://HOST/ws/events?token=ACCESS`: relays `{"event", "data", "at"}` messages of the
    user's tenant (and, for cashiers, only of their stores). Closed when the token expires or the
    user's sessions are revoked."""

    async def connect(self):
        self.identity = await database_sync_to_async(socket_identity)(self.scope)
        if self.identity is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        for group in self.identity.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        delay = max(0.0, self.identity.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, lambda: asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))
        )

    async def disconnect(self, code):
        identity = getattr(self, "identity", None)
        if identity is None:
            return
        self._expiry.cancel()
        for group in identity.groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "data": {}, "at": None})

    async def event_message(self, message):
        await self.send_json({key: message[key] for key in ("event", "data", "at")})

    async def sessions_revoked(self, message):
        await self.close(code=CLOSE_UNAUTHENTICATED)
