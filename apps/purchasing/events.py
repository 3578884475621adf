"""Purchasing events, sent on commit to the receiving location's staff and the managers."""

from __future__ import annotations

from apps.core.events import publish_event


def purchase_received(order, receipt) -> None:
    """purchase.received: goods arrived (the stock events come from inventory)."""
    publish_event(
        "purchase.received",
        {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "storeId": order.store_id,
            "receiptId": receipt.pk,
            "value": receipt.value,
        },
        store_id=order.store_id,
    )
