"""Writes for the till: cash-drawer shifts (open, cash in and out, close with the Z report),
parked carts, and the shift hooks the sales services call inside their own transactions.

Locks: a sale, return, void or due collection share-locks the open shift it records money in
(after the store, before the stock); pay-ins, pay-outs, drops and the close lock the shift for
update. So a close waits for the sales in flight on its shift and then sees them all, and a sale
that arrives after the close finds the shift closed — every sale belongs to exactly one shift,
and the Z report to exactly its sales. The Z number is taken last, just before the commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.db import document_number_next
from apps.core.documents import Lifecycle, Transition, document_transition
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.money import validate_money
from apps.core.roles import Role
from apps.core.validation import validate_text
from apps.pos import events, selectors
from apps.pos.models import (
    MAIN_DRAWER,
    MANUAL_CASH_TYPES,
    CashEvent,
    CashEventType,
    ParkedCart,
    Shift,
    ShiftStatus,
    ZReport,
)
from apps.stores.models import StoreKind
from apps.tenants.selectors import tenant_settings_cached

ZERO = Decimal("0.00")
DRAWER = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
OUT_OF_DRAWER = {CashEventType.PAY_OUT, CashEventType.CASH_DROP}


def till_store(*, actor, store_id: UUID):
    """A live RETAIL store the actor may work at (cashiers: their own, 403 otherwise)."""
    store = selectors.till_store_get(store_id=store_id, user_id=getattr(actor, "pk", None))
    if store is None:
        raise ValidationFailed.for_field("storeId", "Unknown store.")
    if store.kind != StoreKind.RETAIL:
        raise BusinessRuleViolation(
            "Tills are in stores, not in warehouses.",
            code=ErrorCode.INVALID_LOCATION,
            details=[{"field": "storeId", "message": "A warehouse."}],
        )
    if getattr(actor, "role", None) == Role.CASHIER and not store.assigned:
        raise PermissionDenied("You are not assigned to this store.")
    return store


# --- shifts ---------------------------------------------------------------------------------------
def shift_open(
    *, actor, store_id: UUID, opening_float: Decimal, drawer: str = MAIN_DRAWER
) -> Shift:
    """Opens the actor's shift on a drawer with its counted float: one open shift per cashier
    and per drawer of a store (409 SHIFT_ALREADY_OPEN naming which)."""
    drawer = (drawer or MAIN_DRAWER).strip().upper()
    if not DRAWER.fullmatch(drawer):
        raise ValidationFailed.for_field(
            "drawer", "Letters, digits, '-' and '_' (up to 32), e.g. MAIN."
        )
    validate_money(opening_float, field="openingFloat")
    with transaction.atomic():
        store = till_store(actor=actor, store_id=store_id)
        last = selectors.last_closed_shift(store_id=store.pk, drawer=drawer)
        try:
            with transaction.atomic():
                shift = Shift.objects.create(
                    store=store,
                    drawer=drawer,
                    cashier_id=actor.pk,
                    opening_float=opening_float,
                    previous_closing_count=last.counted_cash if last else None,
                )
        except IntegrityError as error:
            which = "cashier" if "shift_one_open_per_cashier" in str(error) else "drawer"
            raise Conflict(
                "You already have an open shift."
                if which == "cashier"
                else f"The {drawer} drawer of this store already has an open shift.",
                code=ErrorCode.SHIFT_ALREADY_OPEN,
                details=[
                    {"field": "storeId" if which == "cashier" else "drawer", "message": "Open."}
                ],
            ) from None
        audit_record(
            action="shift.open",
            entity_type="shift",
            entity_id=shift.pk,
            actor=actor,
            after={"store_id": store.pk, "drawer": drawer, "opening_float": opening_float},
        )
        events.shift_changed("shift.opened", shift)
    return shift


def _closed(shift: Shift, action: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "This shift is closed.",
        code=ErrorCode.INVALID_STATE,
        details=[{"field": "status", "message": shift.status}],
    )


SHIFT = Lifecycle(
    model=Shift,
    entity_type="shift",
    not_found="Shift not found.",
    transitions={
        "cash": Transition(frozenset({ShiftStatus.OPEN})),  # stays open
        "close": Transition(frozenset({ShiftStatus.OPEN}), ShiftStatus.CLOSED),
    },
    refusal=_closed,
)


def _shift_lock(*, actor, shift_id: UUID, action: str) -> Shift:
    """The shift, locked for update: 404 when the actor may not see it (a cashier sees only
    their own), 422 INVALID_STATE when it is closed."""
    return SHIFT.lock(shift_id, action, queryset=selectors.visible_shifts(actor=actor))


def shift_cash(*, actor, shift_id: UUID, type: str, amount: Decimal, reason: str) -> CashEvent:
    """A pay-in, pay-out or drop on an open shift. Never more out than the drawer should hold
    (422 INSUFFICIENT_CASH)."""
    if type not in MANUAL_CASH_TYPES:
        raise ValidationFailed.for_field("type", "PAY_IN, PAY_OUT or CASH_DROP.")
    validate_money(amount, field="amount", positive=True)
    reason = validate_text(reason, field="reason")
    with transaction.atomic():
        shift = _shift_lock(actor=actor, shift_id=shift_id, action="cash")
        if type in OUT_OF_DRAWER:
            expected = selectors.expected_cash(shift)
            if amount > expected:
                raise BusinessRuleViolation(
                    f"The drawer should hold {expected}; {amount} cannot be taken out.",
                    code=ErrorCode.INSUFFICIENT_CASH,
                    details=[{"field": "amount", "message": f"At most {expected}."}],
                )
        event = CashEvent.objects.create(
            shift=shift,
            type=type,
            amount=-amount if type in OUT_OF_DRAWER else amount,
            reason=reason,
            created_by=actor.pk,
        )
        audit_record(
            action="shift.cash",
            entity_type="shift",
            entity_id=shift.pk,
            actor=actor,
            after={"type": type, "amount": amount, "reason": reason},
        )
    return event


def shift_close(*, actor, shift_id: UUID, counted_cash: Decimal, blind: bool = False) -> Shift:
    """Closes an open shift with the counted cash: expected = float + the cash log; variance =
    counted - expected; a Z report numbered per store, frozen from then on. Closing another
    cashier's shift (managers and admins) is a forced close, marked and audited as such."""
    validate_money(counted_cash, field="countedCash")
    with transaction.atomic():
        shift = _shift_lock(actor=actor, shift_id=shift_id, action="close")
        figures = selectors.shift_figures(shift)
        expected = figures["expected_cash"]
        store = shift.store
        # the last lock taken: every other close of the store waits on this counter until commit
        sequence = document_number_next(series=f"z:{store.pk}")
        number = f"Z-{store.code}-{sequence:06d}"
        variance = counted_cash - expected
        forced = actor.pk != shift.cashier_id
        document_transition(
            SHIFT,
            shift,
            action="close",
            actor=actor,
            stamps=("closed_at", "closed_by"),
            changes={
                "forced": forced,
                "blind": blind,
                "counted_cash": counted_cash,
                "expected_cash": expected,
                "variance": variance,
            },
            # the trail has always recorded the count (no status)
            audit=(
                None,
                {
                    "z_report": number,
                    "counted_cash": counted_cash,
                    "expected_cash": expected,
                    "variance": variance,
                    "forced": forced,
                    "blind": blind,
                },
            ),
            publish=lambda shift: events.shift_changed("shift.closed", shift, zReport=number),
        )
        report = ZReport.objects.create(
            shift=shift,
            store=store,
            sequence=sequence,
            number=number,
            data=_z_data(shift, figures),
            created_at=shift.closed_at,
        )
    shift.z_report = report
    return shift


def _z_data(shift: Shift, figures: dict[str, Any]) -> dict[str, Any]:
    """What the Z report freezes: the shift, its figures and the count, as JSON values."""
    return _jsonable(
        {
            "shift_id": shift.pk,
            "store_id": shift.store_id,
            "store_code": shift.store.code,
            "drawer": shift.drawer,
            "cashier_id": shift.cashier_id,
            "opened_at": shift.opened_at,
            "closed_at": shift.closed_at,
            "closed_by": shift.closed_by,
            "forced": shift.forced,
            "blind": shift.blind,
            **figures,
            "counted_cash": shift.counted_cash,
            "variance": shift.variance,
        }
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal | UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- what sales, returns, voids and due collections record ----------------------------------------
def till_shift_id(*, actor, store_id: UUID, required: bool) -> UUID | None:
    """The open shift whose drawer takes cash the actor rings at `store_id` (their own, else
    the store's; see selectors.DRAWER_SHIFT_SQL), share-locked until the caller commits (a close
    waits for it), or None; with `required`, none is 422 SHIFT_REQUIRED."""
    shift_id = selectors.drawer_shift_id_locked(
        user_id=getattr(actor, "pk", None), store_id=store_id
    )
    if shift_id is None and required:
        raise shift_required()
    return shift_id


def shift_required() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "The company requires an open shift: open one at this store first.",
        code=ErrorCode.SHIFT_REQUIRED,
        details=[{"field": "storeId", "message": "No open shift at this store."}],
    )


def cash_event(
    *,
    shift_id: UUID,
    type: str,
    amount: Decimal,
    reference_type: str,
    reference_id: UUID,
    actor_id: UUID | None,
) -> CashEvent:
    """An unsaved drawer-log row for money that moved with a sale, a return, a void or a due
    payment (the caller writes it with its own rows)."""
    return CashEvent(
        shift_id=shift_id,
        type=type,
        amount=amount,
        reference_type=reference_type,
        reference_id=reference_id,
        created_by=actor_id,
    )


# --- parked carts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resumed:
    cart: dict
    store_id: UUID
    label: str


def cart_park(*, actor, store_id: UUID, label: str, cart: dict) -> ParkedCart:
    """Puts a cart on hold at a store for the company's `parked_cart_hours`."""
    hours = tenant_settings_cached(tenant=actor.tenant).parked_cart_hours
    with transaction.atomic():
        store = till_store(actor=actor, store_id=store_id)
        selectors.expired_carts(store_id=store.pk).delete()
        parked = ParkedCart.objects.create(
            store=store,
            label=(label or "").strip(),
            cart=cart,
            created_by=actor.pk,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        audit_record(
            action="cart.park",
            entity_type="parked_cart",
            entity_id=parked.pk,
            actor=actor,
            after={
                "store_id": store.pk,
                "label": parked.label,
                "items": len(cart.get("items", [])),
            },
        )
    return parked


def cart_resume(*, actor, cart_id: UUID) -> ParkedCart:
    """Takes a parked cart back (it is deleted: one till resumes it, once)."""
    return _cart_take(actor=actor, cart_id=cart_id, action="cart.resume")


def cart_delete(*, actor, cart_id: UUID) -> ParkedCart:
    return _cart_take(actor=actor, cart_id=cart_id, action="cart.delete")


def _cart_take(*, actor, cart_id: UUID, action: str) -> ParkedCart:
    with transaction.atomic():
        parked = selectors.visible_carts(actor=actor).select_for_update().filter(pk=cart_id).first()
        if parked is None:
            raise NotFound("Parked cart not found.")
        ParkedCart.objects.filter(pk=parked.pk).delete()
        audit_record(
            action=action,
            entity_type="parked_cart",
            entity_id=parked.pk,
            actor=actor,
            before={"store_id": parked.store_id, "label": parked.label},
        )
    return parked
