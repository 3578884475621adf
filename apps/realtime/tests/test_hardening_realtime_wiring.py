"""The writes that change what a user may hear reach their open sockets, end to end through the
API (issue 7, defect 7). The mechanism is proven in test_hardening_realtime.py; these prove that
each write calls it (`publish_user_access_changed` / `publish_tenant_access_changed`)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from apps.core.events import publish_event
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db

CLOSED = {"type": "websocket.close", "code": 4401}


def socket_for(user) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(application, f"/ws/events?token={token}")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def call(fn):
        with django_capture_on_commit_callbacks(execute=True):
            return fn()

    return sync_to_async(call)


def store_event(world, store, name: str):
    return lambda: publish_event(
        "store.updated", {"name": name}, store_id=store.pk, schema=world.tenant.schema_name
    )


# Announcements of the change itself (to the whole company) may come before or after the
# socket's own acknowledgement, depending on the order of the calls in the service.
ANNOUNCEMENTS = ("user.updated", "store.deleted")


async def next_event(socket) -> dict:
    """The next message that is not an announcement of the change itself."""
    while True:
        message = await socket.receive_json_from(timeout=2)
        if message["event"] not in ANNOUNCEMENTS:
            return message


async def access_changed(socket) -> None:
    message = await next_event(socket)
    assert (message["event"], message["data"]) == ("access.changed", {})


def expect_status(response, status: int):
    assert response.status_code == status, response.json()
    return response


def test_store_reassignment_through_the_api_moves_the_socket(api, world_a, committed):
    cashier, admin = socket_for(world_a.cashier), api(world_a.admin)
    url = f"/api/v1/users/{world_a.cashier.pk}"

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(
            lambda: expect_status(
                admin.patch(url, {"storeIds": [str(world_a.other_store.pk)]}, format="json"),
                200,
            )
        )
        await access_changed(cashier)
        await committed(store_event(world_a, world_a.store, "Old store"))
        await committed(store_event(world_a, world_a.other_store, "New store"))
        assert (await next_event(cashier))["data"] == {"name": "New store"}
        assert await cashier.receive_nothing(timeout=0.3)
        await cashier.disconnect()

    async_to_sync(scenario)()


def test_role_change_through_the_api_regroups_the_socket(api, world_a, committed):
    cashier, admin = socket_for(world_a.cashier), api(world_a.admin)
    url = f"/api/v1/users/{world_a.cashier.pk}"

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(
            lambda: expect_status(admin.patch(url, {"role": "MANAGER"}, format="json"), 200)
        )
        await access_changed(cashier)
        await committed(store_event(world_a, world_a.other_store, "Any store"))
        assert (await next_event(cashier))["data"] == {"name": "Any store"}
        await cashier.disconnect()

    async_to_sync(scenario)()


def test_deleting_the_cashiers_store_regroups_the_socket(api, world_a, committed):
    cashier, admin = socket_for(world_a.cashier), api(world_a.admin)

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(
            lambda: expect_status(admin.delete(f"/api/v1/stores/{world_a.store.pk}"), 200)
        )
        await access_changed(cashier)
        await cashier.disconnect()

    async_to_sync(scenario)()


def test_suspending_the_company_through_the_api_closes_its_sockets(
    api, world_a, super_admin, committed
):
    cashier, root = socket_for(world_a.cashier), api(super_admin)
    url = f"/api/v1/super-admin/tenants/{world_a.tenant.pk}/suspend"

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(lambda: expect_status(root.post(url), 200))
        assert await cashier.receive_output(timeout=2) == CLOSED

    async_to_sync(scenario)()
