"""The till's cash drawer as sales sees it: the open shift whose drawer takes the cash a sale, a
void, a return or a due payment moves, and the drawer-log rows for that cash.

The drawer is the point of sale's (`apps.pos`: shifts, cash events, X/Z reports), which reads the
sales; sales sits below pos in the layers (pyproject.toml), so pos registers these in its
`AppConfig.ready()` (apps.core.hooks) and sales calls them here without importing it."""

from __future__ import annotations

from apps.core.hooks import Hook

# the kinds of drawer-log row sales writes (apps.pos.models.CashEventType's values; pos checks
# them when it registers)
SALE = "SALE"
VOID = "VOID"
REFUND = "REFUND"
DUE_PAYMENT = "DUE_PAYMENT"
CASH_EVENT_TYPES = (SALE, VOID, REFUND, DUE_PAYMENT)

# the SQL sub-select of the open shift whose drawer takes the cash at a store ({store}: the store
# id's expression): apps.pos.selectors.DRAWER_SHIFT_SQL
shift_sql = Hook("drawer shift SQL", provider="apps.pos")
# (*, actor, store_id, required) -> the shift id or None, share-locked: apps.pos.services
till_shift_id = Hook("till shift", provider="apps.pos")
# (*, shift_id, type, amount, reference_type, reference_id, actor_id) -> an unsaved drawer-log row
cash_event = Hook("cash event", provider="apps.pos")
# () -> the 422 SHIFT_REQUIRED error to raise
shift_required = Hook("shift required", provider="apps.pos")
