"""Sale events, sent on commit to the store's staff and the managers."""

from __future__ import annotations

from apps.core.events import publish_event
from apps.sales.models import Sale


def sale_changed(event: str, sale: Sale, **extra) -> None:
    """sale.completed / sale.voided / sale.returned."""
    publish_event(
        event,
        {
            "id": sale.pk,
            "number": sale.number,
            "storeId": sale.store_id,
            "status": sale.status,
            "total": sale.total,
            "customerId": sale.customer_id,
            **extra,
        },
        store_id=sale.store_id,
    )


def payment_received(payment) -> None:
    """payment.received: a customer paid what they owed."""
    publish_event(
        "payment.received",
        {
            "id": payment.pk,
            "customerId": payment.customer_id,
            "method": payment.method,
            "amount": payment.amount,
            "storeId": payment.store_id,
        },
        store_id=payment.store_id,
    )
