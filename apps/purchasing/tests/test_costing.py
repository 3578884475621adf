"""Receiving goods: stock in through the inventory's writer, the weighted-average cost to 4
places with awkward numbers, the cost history, receipts that add up to the line exactly, and
refusals that change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product, ProductVariant
from apps.core.errors import BusinessRuleViolation
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.tests.conftest import ledger_mismatches
from apps.purchasing import services
from apps.purchasing.models import PurchaseOrder, PurchaseReceiptItem, Supplier
from apps.purchasing.tests.conftest import PURCHASES, order, purchasing_state, stock

pytestmark = pytest.mark.django_db

D = Decimal


def receive(world, po, *quantities):
    """Receives `quantities` of the order's lines (in line order; None skips a line)."""
    with tenant_context(world.tenant):
        lines = list(po.items.order_by("position"))
        return services.purchase_receive(
            actor=world.manager,
            order_id=po.pk,
            items=[
                services.ReceiveLine(item_id=line.pk, quantity=D(q))
                for line, q in zip(lines, quantities, strict=False)
                if q is not None
            ],
        )


def cost_of(world, product) -> Decimal:
    with tenant_context(world.tenant):
        return Product.objects.get(pk=product.pk).cost_price


def test_3_at_1_10_on_hand_and_7_at_1_3333_received(world_a, goods, acme):
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk=goods.water.pk).update(cost_price=D("1.10"))
    stock(world_a, goods.water, "3")
    po = order(world_a, acme, (goods.water, "7", "1.3333"))
    receipt = receive(world_a, po, "7")
    # (3 x 1.10 + 7 x 1.3333) / 10 = 12.6331 / 10 = 1.26331 -> 1.2633
    assert cost_of(world_a, goods.water) == D("1.2633")
    assert receipt.value == D("9.33")  # 7 x 1.3333 = 9.3331
    with tenant_context(world_a.tenant):
        (history,) = PurchaseReceiptItem.objects.filter(receipt=receipt)
        assert (history.on_hand_before, history.cost_before, history.cost_after) == (
            D("3.000"), D("1.1000"), D("1.2633"),
        )  # fmt: skip
        level = StockLevel.objects.get(store=world_a.store, product=goods.water, variant=None)
        assert level.quantity == D("10")
        movement = StockMovement.objects.get(type="PURCHASE")
        assert (movement.delta, movement.reference_type, movement.reference_id) == (
            D("7"), "purchase", po.pk,
        )  # fmt: skip
        assert ledger_mismatches() == []
        po.refresh_from_db()
        assert (po.status, po.received_total) == ("RECEIVED", D("9.33"))
        assert Supplier.objects.get(pk=acme.pk).balance == D("9.33")


def test_partial_receipts_add_up_to_the_line_exactly(world_a, goods, acme):
    po = order(world_a, acme, (goods.water, "10", "1.3333"))  # line total 13.33
    values = [receive(world_a, po, q).value for q in ("3", "3", "4")]
    # cumulative rounding: 4.00 (3.9999), 8.00 - 4.00 (7.9998), 13.33 - 8.00 (13.333)
    assert values == [D("4.00"), D("4.00"), D("5.33")]
    assert sum(values) == D("13.33")
    assert cost_of(world_a, goods.water) == D("1.3333")  # nothing on hand before: the cost
    with tenant_context(world_a.tenant):
        po.refresh_from_db()
        assert (po.status, po.received_total, po.total) == ("RECEIVED", D("13.33"), D("13.33"))
        history = list(
            PurchaseReceiptItem.objects.order_by("receipt__created_at").values_list(
                "on_hand_before", "cost_before", "cost_after"
            )
        )
    assert history == [
        (D("0.000"), D("0.3000"), D("1.3333")),
        (D("3.000"), D("1.3333"), D("1.3333")),
        (D("6.000"), D("1.3333"), D("1.3333")),
    ]


def test_stock_sold_before_it_was_received_takes_the_received_cost(world_a, goods, acme):
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk=goods.water.pk).update(cost_price=D("2.00"))
    from tests.factories.tenants import company

    company(world_a, allow_negative_stock=True)
    with tenant_context(world_a.tenant):
        from apps.inventory.services import AdjustItem, stock_adjust

        stock_adjust(
            actor=world_a.admin, store_id=world_a.store.pk, reason="LOSS",
            items=[AdjustItem(goods.water.pk, None, D("-2"))],
        )  # fmt: skip
    po = order(world_a, acme, (goods.water, "5", "3.00"))
    receive(world_a, po, "5")
    assert cost_of(world_a, goods.water) == D("3.0000")  # -2 on hand: the received cost
    with tenant_context(world_a.tenant):
        assert StockLevel.objects.get(store=world_a.store, product=goods.water).quantity == 3


def test_fractional_units_and_stock_in_several_locations(world_a, goods, acme):
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk=goods.beans.pk).update(cost_price=D("4.00"))
    stock(world_a, goods.beans, "1.5")
    stock(world_a, goods.beans, "0.5", store=world_a.warehouse)  # the company's stock: 2 kg
    po = order(world_a, acme, (goods.beans, "2.25", "4.8889"))
    receive(world_a, po, "2.25")
    # (2 x 4.00 + 2.25 x 4.8889) / 4.25 = 19.000025 / 4.25 = 4.4706 (half up)
    assert cost_of(world_a, goods.beans) == D("4.4706")


def test_a_variant_gets_its_own_cost(world_a, acme):
    with tenant_context(world_a.tenant):
        product = Product.objects.get(pk=world_a.product.pk)
        variant = ProductVariant.objects.get(pk=world_a.variant.pk)
        Product.objects.filter(pk=product.pk).update(cost_price=D("1.00"))
        ProductVariant.objects.filter(pk=variant.pk).update(cost=None)
    po = order(world_a, acme, (product, "4", "2.5000", variant))
    receive(world_a, po, "4")
    with tenant_context(world_a.tenant):
        assert ProductVariant.objects.get(pk=variant.pk).cost == D("2.5000")
        assert Product.objects.get(pk=product.pk).cost_price == D("1.0000")  # untouched


def test_over_receiving_is_refused_and_changes_nothing(api, world_a, goods, acme):
    po = order(world_a, acme, (goods.water, "5", "1.00"), (goods.beans, "2", "10.00"))
    receive(world_a, po, "3")
    with tenant_context(world_a.tenant):
        lines = list(po.items.order_by("position"))
    before = purchasing_state(world_a)
    response = api(world_a.manager).post(
        f"{PURCHASES}/{po.pk}/receive",
        {"items": [{"itemId": str(lines[0].pk), "quantity": "3"},
                   {"itemId": str(lines[1].pk), "quantity": "2.5"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "RECEIVE_EXCEEDS_ORDERED"
    assert response.json()["error"]["details"] == [
        {"field": "items.0.quantity", "message": "At most 2.000."},
        {"field": "items.1.quantity", "message": "At most 2.000."},
    ]
    assert purchasing_state(world_a) == before
    for body, field in (
        ({"itemId": str(lines[0].pk), "quantity": "0"}, "items.0.quantity"),
        ({"itemId": str(lines[0].pk), "quantity": "1.5"}, "items.0.quantity"),  # whole units
        ({"itemId": "00000000-0000-0000-0000-000000000000", "quantity": "1"}, "items.0.itemId"),
    ):
        refused = api(world_a.manager).post(
            f"{PURCHASES}/{po.pk}/receive", {"items": [body]}, format="json"
        )
        assert refused.status_code == 400, refused.content
        assert refused.json()["error"]["details"][0]["field"] == field
    assert purchasing_state(world_a) == before


def test_the_transition_table(world_a, goods, acme):
    po = order(world_a, acme, (goods.water, "5", "1.00"))
    with tenant_context(world_a.tenant):
        cancelled = services.purchase_cancel(actor=world_a.manager, order_id=po.pk)
        assert cancelled.status == "CANCELLED"
        for call in (
            lambda: services.purchase_cancel(actor=world_a.manager, order_id=po.pk),
            lambda: services.purchase_pay(
                actor=world_a.manager, order_id=po.pk, amount=D("1.00"), method="CASH"
            ),
        ):
            with pytest.raises(BusinessRuleViolation) as refused:
                call()
            assert refused.value.code == "INVALID_STATE"
    with pytest.raises(BusinessRuleViolation) as refused:
        receive(world_a, po, "1")
    assert refused.value.code == "INVALID_STATE"

    partly = order(world_a, acme, (goods.water, "10", "1.50"))
    receive(world_a, partly, "4")
    with tenant_context(world_a.tenant):
        services.purchase_pay(
            actor=world_a.manager, order_id=partly.pk, amount=D("5.00"), method="CASH"
        )
        closed = services.purchase_cancel(actor=world_a.manager, order_id=partly.pk)
        assert (closed.status, closed.closed_short, closed.payable_total) == (
            "RECEIVED", True, D("6.00"),
        )  # fmt: skip
        assert closed.due_amount == D("1.00")
        with pytest.raises(BusinessRuleViolation) as refused:
            services.purchase_pay(
                actor=world_a.manager, order_id=partly.pk, amount=D("1.01"), method="CASH"
            )
        assert refused.value.code == "AMOUNT_EXCEEDS_DUE"
        assert PurchaseOrder.objects.get(pk=partly.pk).paid_total == D("5.00")


def test_a_retried_receipt_is_received_once_and_announced_after_commit(
    api, world_a, goods, acme, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.core.events import store_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(
        store_group(world_a.tenant.schema_name, world_a.store.pk), channel
    )
    po = order(world_a, acme, (goods.water, "5", "1.00"))
    with tenant_context(world_a.tenant):
        line = po.items.get()
    manager = api(world_a.manager)
    body = {"items": [{"itemId": str(line.pk), "quantity": "2"}]}
    with django_capture_on_commit_callbacks(execute=True):
        first = manager.post(
            f"{PURCHASES}/{po.pk}/receive", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1"
        )
    again = manager.post(
        f"{PURCHASES}/{po.pk}/receive", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1"
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["data"]["items"][0]["receivedQuantity"] == "2"
    with tenant_context(world_a.tenant):
        assert StockLevel.objects.get(store=world_a.store, product=goods.water).quantity == 2
    received = []
    while layer.channels.get(channel) and not layer.channels[channel].empty():
        received.append(async_to_sync(layer.receive)(channel))
    purchase_events = [m for m in received if m["event"] == "purchase.received"]
    assert [
        (m["data"]["number"], m["data"]["status"], m["data"]["value"]) for m in purchase_events
    ] == [(po.number, "PARTIALLY_RECEIVED", "2.00")]
