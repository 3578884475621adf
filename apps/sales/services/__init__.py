"""Writes for sales: checkout (and its dry run, the quote), void, return, and collecting dues.

A checkout is one transaction: the lines are priced by the server (`apps.sales.pricing`) from
the catalogue, the customer's group and the company settings; the stock leaves through the
inventory's one writer (`stock_move`); what the customer owes or spends goes through the
customers' ledger services; the number is taken in the same transaction, so a failed checkout
leaves no trace — no sale, payment, movement, ledger row, event or number.

Every writer here takes its row locks in one order — the sale (and its lines), the store
(shared), stock levels (in the inventory's key order), the store's sale counter (checkouts
only), then the customer — so a checkout, a void, a return and a due collection for the same
customer and products wait for each other instead of deadlocking. The counter comes as late as
it can: every checkout of a store waits on its row until the holder commits, so what runs while
it is held (the inserts of the sale, one round trip, and a customer's ledger) bounds a store's
checkouts per second.

One module per use case: `checkout` (and the quote), `voids`, `returns`, `dues`, `counters` (receipt
reprints); `common` holds what they share (settings, the sale's lifecycle, stock coming back)."""

from apps.sales.services.checkout import (
    CartItem,
    Checkout,
    CheckoutResult,
    SaleLine,
    sale_checkout,
    sale_quote,
)
from apps.sales.services.common import MAX_ITEMS, MAX_PAYMENTS, SALE
from apps.sales.services.counters import sale_receipt_counted, sale_return_receipt_counted
from apps.sales.services.dues import DueCollection, DueSettled, due_collect
from apps.sales.services.returns import ReturnLine, sale_return
from apps.sales.services.voids import sale_void

__all__ = [
    "MAX_ITEMS",
    "MAX_PAYMENTS",
    "SALE",
    "CartItem",
    "Checkout",
    "CheckoutResult",
    "DueCollection",
    "DueSettled",
    "ReturnLine",
    "SaleLine",
    "due_collect",
    "sale_checkout",
    "sale_quote",
    "sale_receipt_counted",
    "sale_return",
    "sale_return_receipt_counted",
    "sale_void",
]
