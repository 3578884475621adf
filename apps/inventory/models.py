"""Stock per location, the movement ledger that explains every change, and transfers.

Quantities are decimals with three places (weighed goods); whole units are enforced per product
by its unit's `allows_fraction`. Only `apps.inventory.services.stock_move` changes a quantity, and
it writes one movement per change: for every level, the sum of its movements is its quantity."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel
from apps.core.money import cost_field, quantity_field


class StockLevel(models.Model):
    """What one location holds of one product (or one variant of it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = quantity_field(default=0)
    # Null: the company's default threshold applies.
    low_stock_threshold = quantity_field(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product", "variant"],
                nulls_distinct=False,
                name="stock_level_uniq",
            )
        ]
        indexes = [models.Index(fields=["product", "store"], name="stock_level_product_idx")]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.product_id}/{self.variant_id}: {self.quantity}"


class MovementType(models.TextChoices):
    ADJUSTMENT = "ADJUSTMENT"
    SET = "SET"
    SALE = "SALE"
    VOID = "VOID"
    RETURN = "RETURN"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_CANCEL = "TRANSFER_CANCEL"
    PURCHASE = "PURCHASE"
    COUNT = "COUNT"


class AdjustmentReason(models.TextChoices):
    DAMAGE = "DAMAGE"
    LOSS = "LOSS"
    THEFT = "THEFT"
    FOUND = "FOUND"
    CORRECTION = "CORRECTION"
    OTHER = "OTHER"


class StockMovement(models.Model):
    """One change of one level. Append-only: the database refuses UPDATE and DELETE
    (migration 0002), as it does for the audit log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes: the composite ones below lead with these columns (fewer
    # indexes to maintain on the hottest insert).
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )  # fmt: skip
    type = models.CharField(max_length=16, choices=MovementType.choices)
    delta = quantity_field()
    quantity_after = quantity_field()
    reason = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # The document that caused it (a transfer, a sale…); empty for manual adjustments.
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)  # public-schema user: no foreign key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="movement_created_idx"),
            models.Index(fields=["store", "-created_at", "-id"], name="movement_store_idx"),
            models.Index(fields=["product", "-created_at", "-id"], name="movement_product_idx"),
            models.Index(
                fields=["variant", "-created_at", "-id"],
                condition=Q(variant__isnull=False),
                name="movement_variant_idx",
            ),
            models.Index(
                fields=["reference_type", "reference_id"],
                condition=Q(reference_id__isnull=False),
                name="movement_reference_idx",
            ),
            models.Index(fields=["user_id", "-created_at"], name="movement_user_idx"),
            models.Index(fields=["type", "-created_at", "-id"], name="movement_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.delta} → {self.quantity_after}"


class TransferStatus(models.TextChoices):
    PENDING = "PENDING"
    IN_TRANSIT = "IN_TRANSIT"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Transfer(BaseModel):
    number = models.PositiveIntegerField(unique=True)  # per company (one schema each)
    from_store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    to_store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.UUIDField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.UUIDField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        indexes = [
            models.Index(fields=["status", "-number"], name="transfer_status_idx"),
            models.Index(fields=["from_store", "-number"], name="transfer_from_idx"),
            models.Index(fields=["to_store", "-number"], name="transfer_to_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_store=models.F("to_store")), name="transfer_distinct_stores"
            )
        ]

    def __str__(self) -> str:
        return f"T-{self.number:06d} {self.status}"


class TransferItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    quantity = quantity_field()
    # Null until received; less than `quantity` is a shortfall, kept visible on the transfer.
    received_quantity = quantity_field(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "product", "variant"],
                nulls_distinct=False,
                name="transfer_item_uniq",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_item_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.variant_id} x {self.quantity}"


class CountStatus(models.TextChoices):
    OPEN = "OPEN"
    FINALIZED = "FINALIZED"
    CANCELLED = "CANCELLED"


class CountScope(models.TextChoices):
    FULL = "FULL"  # finalizing counts every uncounted level of the location as zero
    PARTIAL = "PARTIAL"  # only the counted lines change


class StockCount(BaseModel):
    """A count of one location. Each line keeps what the books said (`expected_quantity`) at the
    moment it was counted, so sales made between counting and finalizing are not lost: the
    finalize applies counted - expected to the level as it is then."""

    number = models.PositiveIntegerField(unique=True)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=8, choices=CountScope.choices, default=CountScope.PARTIAL)
    status = models.CharField(max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.UUIDField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.UUIDField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["store"], condition=Q(status="OPEN"), name="count_one_open_per_store"
            )
        ]

    def __str__(self) -> str:
        return f"C-{self.number:06d} {self.status}"


class StockCountLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expected_quantity = quantity_field()  # the books when it was counted
    counted_quantity = quantity_field()
    counted_at = models.DateTimeField(default=timezone.now)
    counted_by = models.UUIDField(null=True, blank=True)
    # Filled when the count is finalized: what the movement applied and the value at cost.
    applied_delta = quantity_field(null=True, blank=True)
    unit_cost = cost_field(null=True, blank=True)

    class Meta:
        ordering = ["counted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["count", "product", "variant"],
                nulls_distinct=False,
                name="count_line_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.variant_id}: {self.counted_quantity}"
