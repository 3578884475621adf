"""Stock events reach the store's sockets after commit — `stock.updated` for every change,
`stock.low` when a level crosses its threshold downward — and nothing after a rollback."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.inventory import services
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    # channels closes "old" connections around database_sync_to_async calls, which would close
    # the connection holding the test's transaction
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def call(fn):
        with django_capture_on_commit_callbacks(execute=True):
            fn()

    return sync_to_async(call)


def socket_for(user) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", b"localhost")]
    )


def adjust(world, store, product, delta: str):
    def run():
        with tenant_context(world.tenant):
            services.stock_adjust(
                actor=world.admin,
                store_id=store.pk,
                reason="CORRECTION",
                items=[services.AdjustItem(product.pk, None, Decimal(delta))],
            )

    return run


def rolled_back(fn):
    def run():
        with pytest.raises(RuntimeError), transaction.atomic():
            fn()
            raise RuntimeError("roll back")

    return run


def test_updated_and_low_after_commit_and_nothing_after_rollback(world_a, goods, committed):
    cashier = socket_for(world_a.cashier)
    water = goods.water

    async def scenario():
        assert (await cashier.connect())[0]
        await committed(adjust(world_a, world_a.store, water, "6"))
        updated = await cashier.receive_json_from(timeout=2)
        assert (updated["event"], updated["data"]) == (
            "stock.updated",
            {
                "storeId": str(world_a.store.pk),
                "productId": str(water.pk),
                "variantId": None,
                "quantity": "6",
            },
        )
        assert await cashier.receive_nothing(timeout=0.2)  # 6 is above the threshold (5)

        await committed(adjust(world_a, world_a.store, water, "-2"))  # 6 → 4: crosses 5
        events = [await cashier.receive_json_from(timeout=2) for _ in range(2)]
        assert [(e["event"], e["data"]["quantity"]) for e in events] == [
            ("stock.updated", "4"),
            ("stock.low", "4"),
        ]
        assert events[1]["data"]["threshold"] == "5"

        await committed(adjust(world_a, world_a.store, water, "-1"))  # already low: no new low
        assert (await cashier.receive_json_from(timeout=2))["event"] == "stock.updated"
        assert await cashier.receive_nothing(timeout=0.2)

        await committed(rolled_back(adjust(world_a, world_a.store, water, "-1")))
        await committed(adjust(world_a, world_a.other_store, water, "3"))  # not her store
        assert await cashier.receive_nothing(timeout=0.3)
        await cashier.disconnect()

    async_to_sync(scenario)()
