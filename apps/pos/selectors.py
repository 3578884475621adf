"""Reads for the till: shifts a user may see, a shift's figures (X and Z reports), parked carts,
the till's product search."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from apps.core.roles import Role
from apps.pos.models import CashEvent, CashEventType, ParkedCart, Shift, ShiftStatus
from apps.stores.models import Store, StoreAssignment

ZERO = Decimal("0.00")


def till_store_get(*, store_id: UUID) -> Store | None:
    return Store.objects.filter(pk=store_id, deleted_at__isnull=True).first()


def is_assigned(*, user_id: UUID, store_id: UUID) -> bool:
    return StoreAssignment.objects.filter(user_id=user_id, store_id=store_id).exists()


def user_store_ids(user) -> list[UUID] | None:
    """The stores a user works at (None: every store — admins and managers)."""
    if getattr(user, "role", None) != Role.CASHIER:
        return None
    return list(StoreAssignment.objects.filter(user_id=user.pk).values_list("store_id", flat=True))


def visible_shifts(*, actor) -> QuerySet[Shift]:
    """A cashier sees their own shifts; managers and admins every shift of the company."""
    shifts = Shift.objects.select_related("store", "z_report")
    if getattr(actor, "role", None) == Role.CASHIER:
        return shifts.filter(cashier_id=actor.pk)
    return shifts


def shift_get(*, actor, shift_id: UUID) -> Shift:
    from apps.core.errors import NotFound

    shift = visible_shifts(actor=actor).filter(pk=shift_id).first()
    if shift is None:
        raise NotFound("Shift not found.")
    return shift


def open_shift_of(*, cashier_id: UUID, store_id: UUID | None = None) -> Shift | None:
    shifts = Shift.objects.select_related("store").filter(
        cashier_id=cashier_id, status=ShiftStatus.OPEN
    )
    if store_id is not None:
        shifts = shifts.filter(store_id=store_id)
    return shifts.first()


def open_shift_id_locked(*, cashier_id: UUID | None, store_id: UUID) -> UUID | None:
    """The cashier's open shift at the store, share-locked until the transaction ends (a close
    waits for the sale; a sale after the close finds none)."""
    if cashier_id is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM pos_shift WHERE cashier_id = %s AND store_id = %s AND status = 'OPEN'"
            " FOR SHARE",
            [cashier_id, store_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def last_closed_shift(*, store_id: UUID, drawer: str) -> Shift | None:
    return (
        Shift.objects.filter(store_id=store_id, drawer=drawer, status=ShiftStatus.CLOSED)
        .order_by("-closed_at")
        .first()
    )


def expected_cash(shift: Shift) -> Decimal:
    moved = CashEvent.objects.filter(shift=shift).aggregate(total=Sum("amount"))["total"]
    return shift.opening_float + (moved or ZERO)


def shift_figures(shift: Shift) -> dict[str, Any]:
    """The X report (and what the Z report freezes): the cash log by type, expected cash, money
    by payment method, and the shift's sales, returns and voids. Four aggregate queries."""
    from apps.sales.models import Payment, Sale, SaleReturn, SaleStatus

    by_type = dict(
        CashEvent.objects.filter(shift=shift)
        .values_list("type")
        .annotate(total=Sum("amount"))
        .values_list("type", "total")
    )

    def cash(kind: str, sign: int = 1) -> Decimal:
        return sign * by_type.get(kind, ZERO)

    moved = sum(by_type.values(), ZERO)
    by_method = [
        {"method": method, "total": total}
        for method, total in Payment.objects.filter(shift=shift)
        .values_list("method")
        .annotate(total=Sum("amount"))
        .order_by("method")
        .values_list("method", "total")
    ]
    sales = Sale.objects.filter(shift=shift).aggregate(
        count=Count("id"),
        total=Sum("total", filter=~Q(status=SaleStatus.VOIDED)),
        discounts=Sum("discount_total", filter=~Q(status=SaleStatus.VOIDED)),
        tax=Sum("tax_total", filter=~Q(status=SaleStatus.VOIDED)),
        voided=Count("id", filter=Q(status=SaleStatus.VOIDED)),
    )
    voids = Sale.objects.filter(void_shift=shift).aggregate(count=Count("id"), total=Sum("total"))
    returns = SaleReturn.objects.filter(shift=shift).aggregate(
        count=Count("id"), total=Sum("refund_total")
    )
    return {
        "opening_float": shift.opening_float,
        "cash_sales": cash(CashEventType.SALE),
        "cash_refunds": cash(CashEventType.REFUND, -1),
        "cash_voids": cash(CashEventType.VOID, -1),
        "cash_due_payments": cash(CashEventType.DUE_PAYMENT),
        "pay_ins": cash(CashEventType.PAY_IN),
        "pay_outs": cash(CashEventType.PAY_OUT, -1),
        "drops": cash(CashEventType.CASH_DROP, -1),
        "expected_cash": shift.opening_float + moved,
        "by_method": by_method,
        "sales_count": sales["count"],
        "sales_total": sales["total"] or ZERO,
        "discount_total": sales["discounts"] or ZERO,
        "tax_total": sales["tax"] or ZERO,
        "voided_sales_count": sales["voided"],
        "returns_count": returns["count"],
        "returns_total": returns["total"] or ZERO,
        "voids_count": voids["count"],
        "voids_total": voids["total"] or ZERO,
        "generated_at": timezone.now(),
    }


def visible_carts(*, actor) -> QuerySet[ParkedCart]:
    """Unexpired parked carts of the stores the actor works at."""
    carts = ParkedCart.objects.filter(expires_at__gt=timezone.now())
    store_ids = user_store_ids(actor)
    return carts if store_ids is None else carts.filter(store_id__in=store_ids)


def expired_carts(*, store_id: UUID) -> QuerySet[ParkedCart]:
    return ParkedCart.objects.filter(store_id=store_id, expires_at__lte=timezone.now())
