"""Sale events reach the store's sockets after commit, and nothing after a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django_tenants.utils import tenant_context

from apps.core.errors import BusinessRuleViolation
from apps.sales import pricing, services
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    # channels closes "old" connections around database_sync_to_async calls, which would close
    # the connection holding the test's transaction
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def socket_for(user) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", b"localhost")]
    )


def test_completed_and_voided_after_commit(world_a, world_b, shelf,
                                           django_capture_on_commit_callbacks):  # fmt: skip
    sold = {}

    def run(fn):
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
            fn()

    def sell(quantity: str):
        def go():
            sold["sale"] = services.sale_checkout(
                actor=world_a.cashier,
                checkout=services.Checkout(
                    store_id=world_a.store.pk,
                    items=[
                        services.CartItem(product_id=shelf.water.pk, quantity=Decimal(quantity))
                    ],
                    payments=[pricing.Tender("CASH", Decimal("50.00"))],
                ),
            ).sale

        return go

    def refused():
        with pytest.raises(BusinessRuleViolation):
            sell("99")()

    cashier, other_company = socket_for(world_a.cashier), socket_for(world_b.admin)

    async def scenario():
        assert (await cashier.connect())[0]
        assert (await other_company.connect())[0]
        await sync_to_async(run)(sell("2"))
        events = [await cashier.receive_json_from(timeout=2) for _ in range(2)]
        assert sorted(e["event"] for e in events) == ["sale.completed", "stock.updated"]
        completed = next(e for e in events if e["event"] == "sale.completed")
        assert completed["data"] == {
            "id": str(sold["sale"].pk),
            "number": "INV-S1-000001",
            "storeId": str(world_a.store.pk),
            "status": "COMPLETED",
            "total": "1.60",
            "customerId": None,
        }
        await sync_to_async(run)(refused)
        assert await cashier.receive_nothing(timeout=0.3)
        await sync_to_async(run)(
            lambda: services.sale_void(actor=world_a.manager, sale_id=sold["sale"].pk, reason="x")
        )
        events = [await cashier.receive_json_from(timeout=2) for _ in range(2)]
        assert sorted(e["event"] for e in events) == ["sale.voided", "stock.updated"]
        assert await other_company.receive_nothing(timeout=0.1)
        await cashier.disconnect()
        await other_company.disconnect()

    async_to_sync(scenario)()
