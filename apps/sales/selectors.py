"""Reads for sales and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate

from apps.core.errors import NotFound
from apps.core.filters import day_and_month_start
from apps.sales.models import Payment, PaymentKind, Sale, SaleItem, SaleReturn, SaleStatus
from apps.tenants.selectors import tenant_settings_cached


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


def sales_this_month_count(tenant) -> int:
    """The sales made since this month began in the company's time zone, every status (the plan's
    SALES_PER_MONTH limit; apps.core.plans)."""
    _today, month = day_and_month_start(time_zone=tenant_settings_cached(tenant=tenant).timezone)
    # every status listed: the (status, created_at) index serves the count
    return Sale.objects.filter(status__in=SaleStatus.values, created_at__gte=month).count()


def sales_by_day(*, time_zone: str) -> list[tuple[dt.date, int, Decimal]]:
    """Every sale's count and total per local day (the console's rollup, rebuilt by
    `manage.py usage_recount`; apps.tenants.usage)."""
    return list(
        Sale.objects.annotate(day=TruncDate("created_at", tzinfo=ZoneInfo(time_zone)))
        .values("day")
        .annotate(n=Count("pk"), amount=Sum("total"))
        .values_list("day", "n", "amount")
        .order_by("day")
    )
