"""Inventory events, sent on commit to the location's store group (and the managers)."""

from __future__ import annotations

from decimal import Decimal

from apps.core.events import publish_event
from apps.core.serializers import quantity_text
from apps.inventory.models import StockLevel, Transfer


def stock_changed(*, level: StockLevel, before: Decimal, default_threshold: Decimal) -> None:
    """`stock.updated` for every change; `stock.low` when the level crosses its threshold
    downward (it was above, it is now at or below)."""
    payload = {
        "storeId": level.store_id,
        "productId": level.product_id,
        "variantId": level.variant_id,
        "quantity": quantity_text(level.quantity),
    }
    publish_event("stock.updated", payload, store_id=level.store_id)
    threshold = (
        level.low_stock_threshold if level.low_stock_threshold is not None else default_threshold
    )
    if before > threshold >= level.quantity:
        publish_event(
            "stock.low", {**payload, "threshold": quantity_text(threshold)}, store_id=level.store_id
        )


def transfer_changed(transfer: Transfer) -> None:
    """`transfer.updated` to both locations."""
    payload = {
        "id": transfer.pk,
        "number": transfer.number,
        "status": transfer.status,
        "fromStoreId": transfer.from_store_id,
        "toStoreId": transfer.to_store_id,
    }
    publish_event(
        "transfer.updated", payload, store_ids=[transfer.from_store_id, transfer.to_store_id]
    )
