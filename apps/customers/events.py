"""Customer events, sent on commit to the whole company (tills refresh a customer on screen)."""

from __future__ import annotations

from apps.core.events import publish_event
from apps.customers.models import Customer


def customer_changed(event: str, customer: Customer) -> None:
    """customer.created / customer.updated / customer.deleted."""
    publish_event(
        event,
        {
            "id": customer.pk,
            "code": customer.code,
            "name": customer.name,
            "groupId": customer.group_id,
            "balance": customer.balance,
            "loyaltyPoints": customer.loyalty_points,
        },
    )


def customer_totals_changed(customer: Customer) -> None:
    """customer.updated after a balance or points change (the values as committed)."""
    customer_changed("customer.updated", customer)
