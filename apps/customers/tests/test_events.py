"""`customer.updated` reaches the company's sockets after a committed change of a customer, its
balance or its points — and nothing after a rollback or a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.core.errors import BusinessRuleViolation
from apps.customers import services
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


def test_customer_updated_after_commit_only(world_a, world_b, make_customer,
                                             django_capture_on_commit_callbacks):  # fmt: skip
    ana = make_customer(credit_limit=Decimal("10.00"))

    def run(fn):
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
            fn()

    def charge(amount: str):
        return lambda: services.customer_charge(
            actor=None, customer_id=ana.pk, amount=Decimal(amount)
        )

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            charge("1.00")()
            raise RuntimeError("roll back")

    def refused():
        with pytest.raises(BusinessRuleViolation):
            charge("99.00")()

    cashier, other_company = socket_for(world_a.cashier), socket_for(world_b.admin)

    async def scenario():
        assert (await cashier.connect())[0]
        assert (await other_company.connect())[0]
        await sync_to_async(run)(charge("4.50"))
        event = await cashier.receive_json_from(timeout=2)
        assert (event["event"], event["data"]) == (
            "customer.updated",
            {
                "id": str(ana.pk),
                "code": ana.code,
                "name": "Ana Silva",
                "groupId": None,
                "balance": "4.50",
                "loyaltyPoints": 0,
            },
        )
        await sync_to_async(run)(
            lambda: services.loyalty_adjust(actor=None, customer_id=ana.pk, points=7, reason="x")
        )
        event = await cashier.receive_json_from(timeout=2)
        assert (event["data"]["balance"], event["data"]["loyaltyPoints"]) == ("4.50", 7)
        await sync_to_async(run)(rolled_back)
        await sync_to_async(run)(refused)
        assert await cashier.receive_nothing(timeout=0.3)
        assert await other_company.receive_nothing(timeout=0.1)
        await cashier.disconnect()
        await other_company.disconnect()

    async_to_sync(scenario)()
