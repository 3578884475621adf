"""Stock writes. `stock_move` is the one function that changes a quantity, for this module and
every later one (sales, returns, purchases, counts): it locks the levels in one fixed order,
writes one movement per change and publishes the events on commit.

One module per use case: `moves` (the writer), `items` (a request's items and locations checked),
`adjustments`, `transfers`, `counts`."""

from apps.inventory.services.adjustments import (
    AdjustItem,
    SetItem,
    stock_adjust,
    stock_set,
    stock_threshold_set,
)
from apps.inventory.services.counts import (
    COUNT,
    CountedItem,
    count_cancel,
    count_finalize,
    count_start,
    count_submit,
)
from apps.inventory.services.items import CatalogItem, ItemRef, LevelView, items_check, level_view
from apps.inventory.services.moves import (
    MAX_ITEMS,
    Level,
    Moved,
    StockChange,
    StockKey,
    stock_move,
    store_check,
)
from apps.inventory.services.transfers import (
    TRANSFER,
    ReceivedLine,
    TransferLine,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)

__all__ = [
    "COUNT",
    "MAX_ITEMS",
    "TRANSFER",
    "AdjustItem",
    "CatalogItem",
    "CountedItem",
    "ItemRef",
    "Level",
    "LevelView",
    "Moved",
    "ReceivedLine",
    "SetItem",
    "StockChange",
    "StockKey",
    "TransferLine",
    "count_cancel",
    "count_finalize",
    "count_start",
    "count_submit",
    "items_check",
    "level_view",
    "stock_adjust",
    "stock_move",
    "stock_set",
    "stock_threshold_set",
    "store_check",
    "transfer_cancel",
    "transfer_create",
    "transfer_receive",
    "transfer_ship",
]
