"""Reads for sales and payments."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from apps.core.errors import NotFound
from apps.sales.models import Payment, PaymentKind, Sale, SaleItem, SaleReturn


def visible_store_ids(*, user) -> list[UUID] | None:
    """The stores whose sales `user` may read: None for all (ADMIN, MANAGER), else the
    cashier's own."""
    from apps.inventory.selectors import visible_store_ids as stock_visible

    return stock_visible(user=user)


def sale_list(*, store_ids: list[UUID] | None = None) -> QuerySet[Sale]:
    sales = Sale.objects.prefetch_related(
        Prefetch("items", queryset=SaleItem.objects.order_by("position")),
        Prefetch(
            "payments",
            queryset=Payment.objects.filter(kind=PaymentKind.SALE).order_by("created_at", "id"),
            to_attr="tendered",
        ),
    )
    return sales if store_ids is None else sales.filter(store_id__in=store_ids)


def sale_detail_queryset(*, store_ids: list[UUID] | None = None) -> QuerySet[Sale]:
    return sale_list(store_ids=store_ids).prefetch_related(
        Prefetch(
            "returns",
            queryset=SaleReturn.objects.prefetch_related("items").order_by("created_at"),
        )
    )


def sale_get(*, sale_id: UUID, store_ids: list[UUID] | None = None) -> Sale:
    sale = sale_detail_queryset(store_ids=store_ids).filter(pk=sale_id).first()
    if sale is None:
        raise NotFound("Sale not found.")
    return sale


def sale_lines(sale: Sale) -> list[SaleItem]:
    """A sale's lines: prefetched, or still in memory (a quote)."""
    unsaved = getattr(sale, "unsaved_items", None)
    return unsaved if unsaved is not None else list(sale.items.all())


def sale_tendered(sale: Sale) -> list[Payment]:
    unsaved = getattr(sale, "unsaved_payments", None)
    if unsaved is not None:
        return [p for p in unsaved if p.kind == PaymentKind.SALE]
    tendered = getattr(sale, "tendered", None)
    if tendered is not None:
        return tendered
    return list(sale.payments.filter(kind=PaymentKind.SALE).order_by("created_at", "id"))


def payment_list(*, store_ids: list[UUID] | None = None) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("sale", "customer").order_by("-created_at", "-id")
    return payments if store_ids is None else payments.filter(store_id__in=store_ids)


def payment_get(*, payment_id: UUID, store_ids: list[UUID] | None = None) -> Payment:
    payment = (
        payment_list(store_ids=store_ids)
        .prefetch_related("allocations__sale")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


def day_and_month_start(*, time_zone: str, now=None):
    """The start of today and of this month in the company's time zone (as aware datetimes)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    local = timezone.localtime(now or timezone.now(), ZoneInfo(time_zone or "UTC"))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today.replace(day=1)


def sales_figures(*, since, store_id: UUID | None = None) -> dict:
    """Sales since `since` (voids excluded): their count, their total net of the refunds made
    since then, and the average sale — the sales report's own totals, so they always agree."""
    from apps.reports.selectors import Period, sales_totals

    totals = sales_totals(period=Period(since, None, "UTC", store_id))
    return {
        "sales_count": totals["count"],
        "sales_total": totals["net"],
        "average_sale": totals["average_basket"],
    }
