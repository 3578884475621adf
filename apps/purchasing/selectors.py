"""Reads for suppliers and purchase orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from apps.core.errors import NotFound
from apps.core.phones import TYPED, phone_national_digits
from apps.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderItem,
    PurchaseReceipt,
    Supplier,
    SupplierPayment,
)
from apps.tenants.selectors import tenant_settings_cached

RECENT_ORDERS = 10


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.alive().order_by(Lower("name"), "id")


def supplier_search(queryset: QuerySet[Supplier], text: str) -> QuerySet[Supplier]:
    """Every word in the name, contact, email, phone or tax id; a whole valid phone number in any
    form ("210 100 200", "+351210100200") matches the (E.164) phones holding its national number."""
    if TYPED.match(text.strip()):
        country = tenant_settings_cached(tenant=connection.tenant).country
        national = phone_national_digits(text, country=country)
        if national is not None:
            return queryset.filter(phone__contains=national)
    for word in text.split():
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(contact_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
            | Q(tax_id__icontains=word)
        )
    return queryset


def supplier_get(*, supplier_id: UUID) -> Supplier:
    supplier = supplier_list().filter(pk=supplier_id).first()
    if supplier is None:
        raise NotFound("Supplier not found.")
    return supplier


def supplier_recent_orders(supplier: Supplier) -> list[PurchaseOrder]:
    return list(
        PurchaseOrder.objects.filter(supplier=supplier).order_by("-created_at", "-id")[
            :RECENT_ORDERS
        ]
    )


def supplier_ledger(supplier: Supplier) -> list[dict[str, Any]]:
    """Goods received (+) and payments (-), oldest first, with the running balance: its last
    balance is the supplier's `balance`."""
    entries = [
        {
            "type": "RECEIPT",
            "id": r.pk,
            "order_id": r.order_id,
            "number": r.order.number,
            "amount": r.value,
            "at": r.created_at,
        }
        for r in PurchaseReceipt.objects.filter(supplier=supplier).select_related("order")
    ] + [
        {
            "type": "PAYMENT",
            "id": p.pk,
            "order_id": p.order_id,
            "number": p.order.number,
            "amount": -p.amount,
            "at": p.created_at,
        }
        for p in SupplierPayment.objects.filter(supplier=supplier).select_related("order")
    ]
    entries.sort(key=lambda entry: (entry["at"], str(entry["id"])))
    balance = Decimal("0.00")
    for entry in entries:
        balance += entry["amount"]
        entry["balance"] = balance
    return entries


def purchase_list() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier", "store")


def purchase_detail_queryset() -> QuerySet[PurchaseOrder]:
    return purchase_list().prefetch_related(
        Prefetch("items", queryset=PurchaseOrderItem.objects.order_by("position")),
        Prefetch("receipts", queryset=PurchaseReceipt.objects.order_by("created_at", "id")),
        Prefetch("payments", queryset=SupplierPayment.objects.order_by("created_at", "id")),
    )


def purchase_exists(*, order_id: UUID) -> PurchaseOrder:
    """The order's row alone (404 when unknown): for a write's early 404."""
    order = PurchaseOrder.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Purchase order not found.")
    return order


def purchase_get(*, order_id: UUID) -> PurchaseOrder:
    order = purchase_detail_queryset().filter(pk=order_id).first()
    if order is None:
        raise NotFound("Purchase order not found.")
    return order
