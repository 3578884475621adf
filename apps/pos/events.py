"""Shift events, sent on commit to the store's staff and the managers."""

from __future__ import annotations

from apps.core.events import publish_event
from apps.pos.models import Shift


def shift_changed(event: str, shift: Shift, **extra) -> None:
    """shift.opened / shift.closed."""
    publish_event(
        event,
        {
            "id": shift.pk,
            "storeId": shift.store_id,
            "drawer": shift.drawer,
            "cashierId": shift.cashier_id,
            "status": shift.status,
            **extra,
        },
        store_id=shift.store_id,
    )
