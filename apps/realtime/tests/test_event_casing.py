"""Every websocket payload is in the REST casing (camelCase keys, nested ones included), whatever
casing its publisher used: one place (`apps.core.events.event_message`) gives it its wire form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django_tenants.utils import tenant_context

from apps.core.events import event_message
from apps.customers.models import Customer
from apps.customers.services import customer_update
from apps.tenants.services import tenant_settings_update
from apps.users.tokens import token_pair_issue
from mipos.asgi import application

pytestmark = pytest.mark.django_db


def socket_for(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/events?token={token}", headers=[(b"host", b"localhost")]
    )


def test_tenant_settings_updated_has_camel_case_keys_nested_too(
    world_a, django_capture_on_commit_callbacks
):
    def change_settings():
        with django_capture_on_commit_callbacks(execute=True):
            tenant_settings_update(
                actor=world_a.admin,
                tenant=world_a.tenant,
                prices_include_tax=True,
                tax_rate=Decimal("23.00"),
                loyalty_points_expiry_months=12,
                receipt_fields={"tax_summary": False, "return_policy": True},
            )

    token = token_pair_issue(user=world_a.admin).access

    async def scenario():
        admin = socket_for(token)
        assert (await admin.connect())[0]
        await sync_to_async(change_settings)()
        message = await admin.receive_json_from(timeout=2)
        assert message["event"] == "tenant.settings.updated"
        assert message["data"] == {
            "pricesIncludeTax": True,
            "taxRate": "23.00",
            "loyaltyPointsExpiryMonths": 12,
            "receiptFields": {
                "cashier": True,
                "customer": True,
                "taxSummary": False,
                "qr": True,
                "loyalty": True,
                "returnPolicy": True,
            },
        }
        await admin.disconnect()

    async_to_sync(scenario)()


def test_customer_updated_has_camel_case_keys(world_a, django_capture_on_commit_callbacks):
    with tenant_context(world_a.tenant):
        customer = Customer.objects.create(code="C-900001", name="Ana Silva")

    def rename():
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
            customer_update(actor=world_a.admin, customer_id=customer.pk, name="Ana Sousa")

    token = token_pair_issue(user=world_a.cashier).access

    async def scenario():
        cashier = socket_for(token)
        assert (await cashier.connect())[0]
        await sync_to_async(rename)()
        message = await cashier.receive_json_from(timeout=2)
        assert message["event"] == "customer.updated"
        assert message["data"] == {
            "id": str(customer.pk),
            "code": "C-900001",
            "name": "Ana Sousa",
            "groupId": None,
            "balance": "0.00",
            "loyaltyPoints": 0,
        }
        await cashier.disconnect()

    async_to_sync(scenario)()


def test_event_message_camel_cases_keys_at_any_depth():
    message = event_message(
        "x.changed",
        {"store_id": 1, "line_items": [{"unit_price": Decimal("1.50")}], "CASHIER": "10"},
    )

    assert message["data"] == {
        "storeId": 1,
        "lineItems": [{"unitPrice": "1.50"}],
        "CASHIER": "10",  # keys without "_" (a role in maxDiscountPercent) are left as they are
    }
