"""A websocket's access is not fixed at connect (issue 7, defects 1 and 7): token expiry is judged
against the current time on every message; a deactivated user's socket closes at once and hears
nothing more; a change of stores, role or active flag (or the company's status) takes effect on
open sockets through `publish_user_access_changed` / `publish_tenant_access_changed`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.core.events import (
    publish_event,
    publish_tenant_access_changed,
    publish_user_access_changed,
)
from apps.core.roles import Role
from apps.realtime.tests.redis_server import cross_process_setup
from apps.stores.models import StoreAssignment
from apps.tenants.models import Tenant, TenantStatus
from apps.users.models import User
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db

CLOSED = {"type": "websocket.close", "code": 4401}


async def access_changed(socket) -> None:
    """Waits for the socket's acknowledgement that it re-read its access."""
    message = await socket.receive_json_from(timeout=2)
    assert (message["event"], message["data"]) == ("access.changed", {})
    assert message["at"]


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def socket_for(user) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", b"localhost")]
    )


def run(scenario) -> None:
    async_to_sync(scenario)()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`await committed(fn)`: runs `fn` in a transaction whose on-commit callbacks run at its
    end (what a real commit does), from the websocket scenario."""

    def call(fn):
        with django_capture_on_commit_callbacks(execute=True):
            fn()

    return sync_to_async(call)


def store_event(world, store, name: str):
    return lambda: publish_event(
        "store.updated", {"name": name}, store_id=store.pk, schema=world.tenant.schema_name
    )


# --- expiry on an open socket ---------------------------------------------------------------


def test_first_message_after_expiry_closes_the_socket(world_a):
    with time_machine.travel(START, tick=False) as traveller:
        cashier = socket_for(world_a.cashier)

        async def scenario():
            assert (await cashier.connect())[0]
            await cashier.send_json_to({"type": "ping"})
            assert await cashier.receive_json_from(timeout=2) == {
                "event": "pong",
                "data": {},
                "at": None,
            }
            traveller.shift(timedelta(minutes=15, seconds=1))
            await cashier.send_json_to({"type": "ping"})
            assert await cashier.receive_output(timeout=2) == CLOSED
            assert await cashier.receive_nothing(timeout=0.2)

        run(scenario)


def test_no_event_is_relayed_after_expiry(world_a, committed):
    with time_machine.travel(START, tick=False) as traveller:
        cashier = socket_for(world_a.cashier)

        async def scenario():
            assert (await cashier.connect())[0]
            await committed(store_event(world_a, world_a.store, "Before"))
            assert (await cashier.receive_json_from(timeout=2))["data"] == {"name": "Before"}
            traveller.shift(timedelta(minutes=15, seconds=1))
            await committed(store_event(world_a, world_a.store, "After"))
            assert await cashier.receive_output(timeout=2) == CLOSED
            await committed(store_event(world_a, world_a.store, "Later"))
            assert await cashier.receive_nothing(timeout=0.2)

        run(scenario)


def test_an_expired_token_cannot_connect_though_this_process_verified_it(client, world_a):
    with time_machine.travel(START, tick=False) as traveller:
        token = token_pair_issue(user=world_a.cashier).access
        me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert me.status_code == 200  # verified and cached by this process
        traveller.shift(timedelta(minutes=15, seconds=1))
        late = WebsocketCommunicator(application, f"/ws/events?token={token}")

        async def scenario():
            assert await late.connect() == (False, 4401)

        run(scenario)


# --- deactivation and revocation --------------------------------------------------------------


def test_deactivation_closes_the_socket_at_once_and_nothing_more_arrives(api, world_a, committed):
    cashier = socket_for(world_a.cashier)
    admin = api(world_a.admin)

    def deactivate():
        response = admin.delete(f"/api/v1/users/{world_a.cashier.pk}")
        assert response.status_code == 200, response.json()

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(deactivate)
        # at most the company's own announcement of this deactivation, then the close
        output = await cashier.receive_output(timeout=2)
        if output["type"] == "websocket.send":
            assert json.loads(output["text"])["event"] == "user.deactivated"
            output = await cashier.receive_output(timeout=2)
        assert output == CLOSED
        await committed(store_event(world_a, world_a.store, "After"))
        await committed(lambda: publish_event("x", {"n": 1}, schema=world_a.tenant.schema_name))
        assert await cashier.receive_nothing(timeout=0.3)

    run(scenario)
    assert User.objects.get(pk=world_a.cashier.pk).is_active is False


def test_inactive_user_socket_closes_on_access_change(world_a, committed):
    cashier = socket_for(world_a.cashier)

    def deactivate_without_revoking():
        User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
        publish_user_access_changed(world_a.cashier.pk)

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(deactivate_without_revoking)
        assert await cashier.receive_output(timeout=2) == CLOSED
        await committed(store_event(world_a, world_a.store, "After"))
        assert await cashier.receive_nothing(timeout=0.3)

    run(scenario)


def test_suspended_company_sockets_close(world_a, world_b, committed):
    cashier, manager, other = (
        socket_for(world_a.cashier),
        socket_for(world_a.manager),
        socket_for(world_b.admin),
    )

    def suspend():
        Tenant.objects.filter(pk=world_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
        publish_tenant_access_changed(world_a.tenant.schema_name)

    async def scenario():
        for socket in (cashier, manager, other):
            assert (await socket.connect())[0]
        await committed(suspend)
        assert await cashier.receive_output(timeout=2) == CLOSED
        assert await manager.receive_output(timeout=2) == CLOSED
        await committed(lambda: publish_event("x", {"n": 2}, schema=world_b.tenant.schema_name))
        assert (await other.receive_json_from(timeout=2))["data"] == {"n": 2}  # B unaffected
        await other.disconnect()

    run(scenario)


# --- changed stores and role ------------------------------------------------------------------


def _move_cashier(world, to_store):
    def move():
        with tenant_context(world.tenant):
            StoreAssignment.objects.filter(user_id=world.cashier.pk).delete()
            StoreAssignment.objects.create(user_id=world.cashier.pk, store_id=to_store.pk)
        publish_user_access_changed(world.cashier.pk)

    return move


def test_cashier_moved_to_another_store_hears_only_the_new_one(world_a, committed):
    cashier = socket_for(world_a.cashier)

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(store_event(world_a, world_a.store, "Old store, before"))
        assert (await cashier.receive_json_from(timeout=2))["data"] == {"name": "Old store, before"}
        await committed(_move_cashier(world_a, world_a.other_store))
        await access_changed(cashier)
        await committed(store_event(world_a, world_a.store, "Old store, after"))
        await committed(store_event(world_a, world_a.other_store, "New store"))
        message = await cashier.receive_json_from(timeout=2)
        assert (message["event"], message["data"]) == ("store.updated", {"name": "New store"})
        assert await cashier.receive_nothing(timeout=0.3)
        await cashier.disconnect()

    run(scenario)


def test_an_event_queued_for_a_left_store_is_dropped(world_a, committed):
    """The store event is queued on the socket's channel before the socket has re-read its
    access: it was addressed to a group the socket no longer belongs to, so it is not relayed."""
    cashier = socket_for(world_a.cashier)

    def move_then_publish_to_the_old_store():
        _move_cashier(world_a, world_a.other_store)()
        store_event(world_a, world_a.store, "Old store, after")()

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(move_then_publish_to_the_old_store)
        await access_changed(cashier)
        assert await cashier.receive_nothing(timeout=0.3)
        await committed(store_event(world_a, world_a.other_store, "New store"))
        assert (await cashier.receive_json_from(timeout=2))["data"] == {"name": "New store"}
        await cashier.disconnect()

    run(scenario)


def test_cashier_promoted_to_manager_hears_every_store_and_back(world_a, committed):
    cashier = socket_for(world_a.cashier)

    def set_role(role):
        def change():
            User.objects.filter(pk=world_a.cashier.pk).update(role=role)
            publish_user_access_changed(world_a.cashier.pk)

        return change

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(store_event(world_a, world_a.other_store, "Not yours"))
        assert await cashier.receive_nothing(timeout=0.3)
        await committed(set_role(Role.MANAGER))
        await access_changed(cashier)
        await committed(store_event(world_a, world_a.other_store, "Now yours"))
        assert (await cashier.receive_json_from(timeout=2))["data"] == {"name": "Now yours"}
        await committed(set_role(Role.CASHIER))
        await access_changed(cashier)
        await committed(store_event(world_a, world_a.other_store, "Not yours again"))
        await committed(store_event(world_a, world_a.store, "Your store"))
        assert (await cashier.receive_json_from(timeout=2))["data"] == {"name": "Your store"}
        assert await cashier.receive_nothing(timeout=0.3)
        await cashier.disconnect()

    run(scenario)


# --- across processes -------------------------------------------------------------------------


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_with_redis_an_access_change_published_by_another_process_applies_here(world_a, redis_url):
    """Another OS process (a gunicorn worker that deactivated the cashier) publishes the access
    change through Redis; the socket held by this process (Daphne) re-reads and closes."""
    layers, env, publisher = cross_process_setup(
        redis_url,
        "from apps.core.events import publish_user_access_changed; "
        f"publish_user_access_changed('{world_a.cashier.pk}')",
    )

    cashier = socket_for(world_a.cashier)

    async def scenario():
        assert (await cashier.connect())[0]
        await sync_to_async(
            lambda: User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
        )()
        result = await sync_to_async(subprocess.run)(
            [sys.executable, "-c", publisher],
            env=env,
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert await cashier.receive_output(timeout=5) == CLOSED

    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            run(scenario)
        finally:
            channel_layers.backends.clear()
