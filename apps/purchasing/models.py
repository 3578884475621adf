"""Suppliers, purchase orders, what was received of them (with the cost it made) and what was
paid. The supplier's `balance` is what the shop owes: the value of goods received minus the
payments — a running total kept in the same transaction as the receipt or payment that moves
it, and always equal to its ledger (the receipts and payments)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.models import BaseModel, SoftDeleteModel
from apps.core.money import cost_field, money_field, quantity_field

LIVE = Q(deleted_at__isnull=True)


class Supplier(SoftDeleteModel):
    name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=1000, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.CharField(max_length=2000, blank=True)
    balance = money_field(default=Decimal("0.00"))  # owed to the supplier

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=LIVE, name="supplier_name_uniq")
        ]
        indexes = [models.Index(Lower("name"), name="supplier_name_idx")]

    def __str__(self) -> str:
        return self.name


class PurchaseStatus(models.TextChoices):
    ORDERED = "ORDERED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


class PaymentMethod(models.TextChoices):
    CASH = "CASH"
    CARD = "CARD"
    BANK_TRANSFER = "BANK_TRANSFER"
    MOBILE = "MOBILE"
    OTHER = "OTHER"


class PurchaseOrder(BaseModel):
    number = models.CharField(max_length=40, unique=True)  # PO-000123
    sequence = models.PositiveIntegerField(unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=PurchaseStatus.choices, default=PurchaseStatus.ORDERED
    )
    expected_at = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    total = money_field()  # the lines' totals, as ordered
    currency = models.CharField(max_length=3)  # the company's when ordered
    received_total = money_field(default=Decimal("0.00"))  # value received
    paid_total = money_field(default=Decimal("0.00"))
    # cancelled after a part was received: closed, what is payable is what was received
    closed_short = models.BooleanField(default=False)
    created_by = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_total__gte=0) & Q(received_total__gte=0),
                name="purchase_amounts_not_negative",
            )
        ]
        indexes = [
            models.Index(fields=["supplier", "-created_at"], name="purchase_supplier_idx"),
            models.Index(fields=["status", "-created_at"], name="purchase_status_idx"),
            models.Index(fields=["store", "-created_at"], name="purchase_store_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def payable_total(self) -> Decimal:
        return self.received_total if self.closed_short else self.total

    @property
    def due_amount(self) -> Decimal:
        return self.payable_total - self.paid_total


class PurchaseOrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    quantity = quantity_field()
    received_quantity = quantity_field(default=Decimal("0.000"))
    unit_cost = cost_field()
    line_total = money_field()  # quantity x unit cost, to the cent (half up)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0)
                & Q(received_quantity__gte=0)
                & Q(received_quantity__lte=F("quantity")),
                name="purchase_item_received_within_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} @ {self.unit_cost}"


class PurchaseReceipt(BaseModel):
    """One delivery: what arrived of which lines, its value, and the costs it made."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receipts")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    value = money_field()
    note = models.CharField(max_length=1000, blank=True)
    received_by = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["supplier", "created_at"], name="receipt_supplier_idx")]


class PurchaseReceiptItem(models.Model):
    """One line of a delivery and the cost history it wrote: the weighted-average cost of the
    product (or variant) before and after, and the stock on hand it was averaged with."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt = models.ForeignKey(PurchaseReceipt, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(PurchaseOrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = quantity_field()
    unit_cost = cost_field()
    value = money_field()
    on_hand_before = quantity_field()
    cost_before = cost_field()
    cost_after = cost_field()

    def __str__(self) -> str:
        return f"{self.quantity} @ {self.unit_cost}: {self.cost_before} -> {self.cost_after}"


class SupplierPayment(BaseModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="payments")
    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    currency = models.CharField(max_length=3)  # the order's
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=120, blank=True)
    paid_at = models.DateTimeField(default=timezone.now)
    created_by = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="supplier_payment_positive")
        ]
        indexes = [models.Index(fields=["supplier", "created_at"], name="payment_supplier_idx")]
