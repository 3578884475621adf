"""Sales, their lines and payments, returns, and what collected dues paid.

A sale's amounts are computed once, by `apps.sales.pricing`, and stored per line; every total
of the sale is the sum of its stored lines, and nothing recomputes them later (a receipt, a
report or a refund reads the stored amounts)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel
from apps.core.money import cost_field, money_field, quantity_field, rate_field


class SaleStatus(models.TextChoices):
    COMPLETED = "COMPLETED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"
    VOIDED = "VOIDED"


class PaymentMethod(models.TextChoices):
    CASH = "CASH"
    CARD = "CARD"
    MOBILE = "MOBILE"
    BANK_TRANSFER = "BANK_TRANSFER"
    STORE_CREDIT = "STORE_CREDIT"


class Sale(BaseModel):
    number = models.CharField(max_length=40, unique=True)  # INV-DT-000123
    sequence = models.PositiveIntegerField()  # per store, gap-free
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    cashier_id = models.UUIDField()  # public-schema user: no foreign key
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_sale_id = models.UUIDField(null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)  # of the checkout, for replays
    status = models.CharField(
        max_length=20, choices=SaleStatus.choices, default=SaleStatus.COMPLETED
    )
    subtotal = money_field()
    discount_total = money_field()
    tax_total = money_field()
    rounding_adjustment = money_field()
    total = money_field()
    # the subtotal and discounts without tax whatever the pricing mode (pricing.CartTotals):
    # stored with the sale so the sales report reads sales, not every line of the period
    untaxed_gross = money_field(default=Decimal("0.00"), db_default=Decimal("0"))
    untaxed_discounts = money_field(default=Decimal("0.00"), db_default=Decimal("0"))
    paid_total = money_field()
    change_due = money_field()
    due_amount = money_field()  # put on the customer's account at checkout
    due_paid = money_field(default=Decimal("0.00"))  # of it, collected since
    due_returned = money_field(default=Decimal("0.00"))  # cancelled by returns
    points_earned = models.PositiveIntegerField(default=0)
    points_redeemed = models.PositiveIntegerField(default=0)
    points_value = money_field(default=Decimal("0.00"))  # the discount the points gave
    group_discount_percent = rate_field(default=Decimal("0.00"))
    cart_discount = models.JSONField(null=True, blank=True)  # {type, value} as sent
    # the pricing mode and currency it was sold in: its documents show these, whatever the
    # company's settings say later
    prices_include_tax = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=500, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.UUIDField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    # the cash-drawer shifts it was made in and voided in (none without an open shift)
    shift = models.ForeignKey(
        "pos.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_shift = models.ForeignKey(
        "pos.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # receipts generated of the sale and of its void: every one after the first is a COPY
    receipt_count = models.PositiveIntegerField(default=0, db_default=0)
    void_receipt_count = models.PositiveIntegerField(default=0, db_default=0)
    # the distinct products on its lines, sorted: the basket that market-basket analysis pairs
    # up without reading (and de-duplicating) the lines. Written once, with the lines.
    product_ids = ArrayField(models.UUIDField(), default=list, db_default=[])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_sale_id"],
                condition=Q(client_sale_id__isnull=False),
                name="sale_client_sale_id_uniq",
            ),
            models.UniqueConstraint(fields=["store", "sequence"], name="sale_store_sequence_uniq"),
        ]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="sale_store_idx"),
            models.Index(
                fields=["customer", "-created_at"],
                condition=Q(customer__isnull=False),
                name="sale_customer_idx",
            ),
            models.Index(fields=["cashier_id", "-created_at"], name="sale_cashier_idx"),
            models.Index(fields=["status", "-created_at"], name="sale_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class SaleItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="items")
    # the sale's time and store, copied with the line (neither ever changes): the reports that
    # add up a year of lines filter them here instead of joining every line to its sale
    sold_at = models.DateTimeField()
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # copied at the time of sale
    name = models.CharField(max_length=400)
    sku = models.CharField(max_length=64)
    quantity = quantity_field()
    unit_price = money_field()
    price_overridden = models.BooleanField(default=False)
    discount = models.JSONField(null=True, blank=True)  # the line's own {type, value} as sent
    line_discount = money_field()
    group_discount = money_field()
    cart_discount = money_field()
    points_discount = money_field()
    discount_amount = money_field()  # the four above
    tax_rate = rate_field()
    tax_amount = money_field()
    line_total = money_field()  # what the customer pays for it, tax included
    unit_cost = cost_field()  # the cost at the sale
    track_stock = models.BooleanField(default=True)
    # the sale's pricing mode, copied like its time and store: the reports that split a year
    # of lines into amounts without tax need it without joining every line to its sale
    prices_include_tax = models.BooleanField(default=False, db_default=False)
    returned_quantity = quantity_field(default=Decimal("0.000"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0)
                & Q(returned_quantity__lte=models.F("quantity")),
                name="sale_item_returned_within_sold",
            )
        ]
        # lines arrive in time order: a block-range index keeps a month's lines cheap to find
        # and costs the till almost nothing to maintain
        indexes = [BrinIndex(fields=["sold_at"], name="sale_item_sold_at_brin")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class PaymentKind(models.TextChoices):
    SALE = "SALE"  # tendered at checkout
    CHANGE = "CHANGE"  # cash given back at checkout (negative)
    REFUND = "REFUND"  # money back for a return (negative)
    VOID = "VOID"  # a voided sale's payment given back (negative)
    DUE = "DUE"  # collected against what a customer owes


class Payment(BaseModel):
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    amount = money_field()  # signed: money in +, money out -
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=120, blank=True)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(
        Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    sale_return = models.ForeignKey(
        "SaleReturn", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.UUIDField(null=True, blank=True)
    shift = models.ForeignKey(  # the cash-drawer shift it was taken or paid out in
        "pos.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="payment_created_idx"),
            models.Index(fields=["store", "-created_at"], name="payment_store_idx"),
            models.Index(
                fields=["customer", "-created_at"],
                condition=Q(customer__isnull=False),
                name="payment_customer_idx",
            ),
            models.Index(fields=["method", "-created_at"], name="payment_method_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.amount}"


class DueAllocation(models.Model):
    """What one collected payment settled of one due sale."""

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="due_allocations")
    amount = money_field()

    def __str__(self) -> str:
        return f"{self.amount} of {self.sale_id}"


class SaleReturn(BaseModel):
    number = models.CharField(max_length=40, unique=True)  # RET-DT-000012
    sequence = models.PositiveIntegerField()
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    refund_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    refund_total = money_field()
    currency = models.CharField(max_length=3)  # the sale's
    prices_include_tax = models.BooleanField(default=False)  # the sale's
    applied_to_due = money_field(default=Decimal("0.00"))  # of it, owed less
    points_reversed = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500)
    created_by = models.UUIDField(null=True, blank=True)
    shift = models.ForeignKey(
        "pos.Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt_count = models.PositiveIntegerField(default=0, db_default=0)  # as on the sale

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "sequence"], name="return_store_sequence_uniq")
        ]

    def __str__(self) -> str:
        return self.number


class SaleReturnItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.CASCADE, related_name="items")
    sale_item = models.ForeignKey(SaleItem, on_delete=models.PROTECT, related_name="+")
    quantity = quantity_field()
    refund_amount = money_field()
    # the tax the refund gives back: the sold line's tax, prorated as the refund is
    # (pricing.line_refund_tax); what return receipts and the tax report show
    tax_amount = money_field()
    restock = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.quantity} of {self.sale_item_id}"
