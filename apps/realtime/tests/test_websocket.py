"""The real-time channel end to end: token checks on connect, delivery after commit only, tenant
and store isolation, closing on revocation, and delivery across processes through Redis (the one
on 127.0.0.1:6379, or one the tests start: see redis_server.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.realtime.tests.redis_server import cross_process_setup
from apps.stores.services import store_update
from apps.tenants.services import tenant_settings_update
from apps.users.services import session_logout_all
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db


def token_for(user) -> str:
    return token_pair_issue(user=user).access


def socket_for(token: str, host: str = "localhost") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", host.encode())]
    )


def run(scenario) -> None:
    async_to_sync(scenario)()


def test_event_reaches_its_tenant_after_commit_and_never_the_other(
    world_a, world_b, django_capture_on_commit_callbacks
):
    def change_settings():
        with django_capture_on_commit_callbacks(execute=True):
            tenant_settings_update(actor=world_a.admin, tenant=world_a.tenant, currency="EUR")

    world_a_admin_token = token_for(world_a.admin)
    world_b_admin_token = token_for(world_b.admin)

    async def scenario():
        a, b = socket_for(world_a_admin_token), socket_for(world_b_admin_token)
        assert (await a.connect())[0] and (await b.connect())[0]
        await sync_to_async(change_settings)()
        message = await a.receive_json_from(timeout=2)
        assert message["event"] == "tenant.settings.updated"
        assert message["data"] == {"currency": "EUR"}
        assert message["at"]
        assert await b.receive_nothing(timeout=0.3)
        await a.disconnect()
        await b.disconnect()

    run(scenario)


def test_nothing_is_sent_for_a_rolled_back_change(world_a, django_capture_on_commit_callbacks):
    def failed_change():
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    tenant_settings_update(
                        actor=world_a.admin, tenant=world_a.tenant, currency="GBP"
                    )
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

    world_a_admin_token = token_for(world_a.admin)

    async def scenario():
        a = socket_for(world_a_admin_token)
        assert (await a.connect())[0]
        await sync_to_async(failed_change)()
        assert await a.receive_nothing(timeout=0.3)
        await a.disconnect()

    run(scenario)


def test_cashier_hears_only_their_stores_managers_hear_all(
    world_a, django_capture_on_commit_callbacks
):
    def rename(store, name):
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
            store_update(actor=world_a.admin, store_id=store.pk, name=name)

    world_a_cashier_token = token_for(world_a.cashier)
    world_a_manager_token = token_for(world_a.manager)

    async def scenario():
        cashier, manager = socket_for(world_a_cashier_token), socket_for(world_a_manager_token)
        assert (await cashier.connect())[0] and (await manager.connect())[0]
        await sync_to_async(rename)(world_a.other_store, "Not yours")
        assert (await manager.receive_json_from(timeout=2))["data"]["name"] == "Not yours"
        assert await cashier.receive_nothing(timeout=0.3)
        await sync_to_async(rename)(world_a.store, "Yours")
        assert (await cashier.receive_json_from(timeout=2))["event"] == "store.updated"
        assert (await manager.receive_json_from(timeout=2))["data"]["name"] == "Yours"
        await cashier.disconnect()
        await manager.disconnect()

    run(scenario)


def test_invalid_expired_or_revoked_tokens_are_refused(world_a):
    world_a_cashier_token = token_for(world_a.cashier)

    async def scenario():
        for path in ("/ws/events", "/ws/events?token=nonsense"):
            connected, code = await WebsocketCommunicator(application, path).connect()
            assert (connected, code) == (False, 4401)
        revoked = socket_for(world_a_cashier_token)
        await sync_to_async(session_logout_all)(user=world_a.cashier)
        assert await revoked.connect() == (False, 4401)

    run(scenario)


def test_token_is_refused_on_another_tenants_domain(world_a, world_b):
    world_a_admin_token = token_for(world_a.admin)

    async def scenario():
        wrong_host = socket_for(world_a_admin_token, host="bravo.mipos.localhost")
        assert await wrong_host.connect() == (False, 4401)
        own_host = socket_for(world_a_admin_token, host="acme.mipos.localhost")
        assert (await own_host.connect())[0]
        await own_host.disconnect()

    run(scenario)


def test_open_socket_is_closed_when_sessions_are_revoked(
    world_a, django_capture_on_commit_callbacks
):
    def revoke():
        with django_capture_on_commit_callbacks(execute=True):
            session_logout_all(user=world_a.cashier)

    world_a_cashier_token = token_for(world_a.cashier)

    async def scenario():
        cashier = socket_for(world_a_cashier_token)
        assert (await cashier.connect())[0]
        await sync_to_async(revoke)()
        assert await cashier.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}

    run(scenario)


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_with_redis_events_cross_processes(world_a, redis_url):
    """Another OS process publishes through Redis; the socket held by this process receives."""
    layers, env, publisher = cross_process_setup(
        redis_url,
        "from apps.core.events import publish_event; "
        f"publish_event('stock.updated', {{'qty': 3}}, schema='{world_a.tenant.schema_name}')",
    )

    world_a_admin_token = token_for(world_a.admin)

    async def scenario():
        a = socket_for(world_a_admin_token)
        assert (await a.connect())[0]
        result = await sync_to_async(subprocess.run)(
            [sys.executable, "-c", publisher],
            env=env,
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        message = await a.receive_json_from(timeout=5)
        assert (message["event"], message["data"]) == ("stock.updated", {"qty": 3})
        await a.disconnect()

    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            run(scenario)
        finally:
            channel_layers.backends.clear()
