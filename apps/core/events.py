"""Real-time events, published to the channel layer only after the surrounding transaction commits
(nothing is sent for a rolled-back change) and only to groups of the current tenant."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger("mipos.events")


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
    return {
        "type": "event.message",
        "event": event,
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
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

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        # one trip into the event loop for every group (each async_to_sync costs a thread hop)
        async_to_sync(_group_send_all)(layer, groups, message, event)

    transaction.on_commit(send)


async def _group_send_all(layer, groups: list[str], message: dict, event: str) -> None:
    for group in groups:
        try:
            await layer.group_send(group, message)
        except Exception:  # the change is committed; a lost push must not fail the request
            logger.exception("could not publish event", extra={"event": event, "group": group})


def publish_sessions_revoked(user_id: Any) -> None:
    """On commit, closes the user's open websockets (their tokens were just revoked)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "sessions.revoked"})
        except Exception:
            logger.exception("could not close revoked websockets", extra={"userId": str(user_id)})

    transaction.on_commit(send)


def _send_on_commit(group: str, message: dict, what: str) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # the change is committed; a lost push must not fail the request
            logger.exception(what, extra={"group": group})

    transaction.on_commit(send)


def publish_user_access_changed(user_id: Any) -> None:
    """On commit, makes every open websocket of the user re-read what it may hear (role, stores,
    active flag, company status): removed stores stop at once, added stores start, and a user who
    may no longer sign in is disconnected (4401). Call it from every write that changes a user's
    role, store assignments or active/deleted state (in that write's transaction)."""
    _send_on_commit(user_group(user_id), {"type": "access.changed"}, "could not re-check sockets")


def publish_tenant_access_changed(schema: str) -> None:
    """On commit, makes every open websocket of the tenant re-check its access (e.g. the company
    was suspended: they all close with 4401)."""
    _send_on_commit(tenant_group(schema), {"type": "access.changed"}, "could not re-check sockets")
