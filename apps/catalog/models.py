from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from apps.core.models import SoftDeleteModel
from apps.core.money import cost_field, money_field, rate_field

LIVE = Q(deleted_at__isnull=True)


class ProductStatus(models.TextChoices):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"  # the only sellable status
    ARCHIVED = "ARCHIVED"
    DISCONTINUED = "DISCONTINUED"
    COMING_SOON = "COMING_SOON"


class Category(SoftDeleteModel):
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True, max_length=1000)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                F("parent"),
                condition=LIVE,
                nulls_distinct=False,
                name="category_sibling_name_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Brand(SoftDeleteModel):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=LIVE, name="brand_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Unit(SoftDeleteModel):
    name = models.CharField(max_length=60)  # "Kilogram"
    abbreviation = models.CharField(max_length=12)  # "kg"
    allows_fraction = models.BooleanField(default=False)  # sold by weight/length

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=LIVE, name="unit_name_uniq")
        ]

    def __str__(self) -> str:
        return self.abbreviation


class VariantType(SoftDeleteModel):
    """A dimension products vary along (Size, Color) and its allowed values."""

    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=LIVE, name="variant_type_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class VariantTypeValue(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    variant_type = models.ForeignKey(VariantType, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "value"]
        constraints = [
            models.UniqueConstraint(
                F("variant_type"), Lower("value"), name="variant_type_value_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.value


class Product(SoftDeleteModel):
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    barcode = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001  (NULL: none; unique when set)
    description = models.TextField(blank=True, max_length=5000)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    status = models.CharField(
        max_length=16, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    # costs to 4 places: a weighted average of purchases (apps.purchasing) is rarely whole cents
    cost_price = cost_field(default=Decimal("0.0000"))
    sell_price = money_field(default=Decimal("0.00"))
    # Null: the company's tax rate applies.
    tax_rate = rate_field(null=True, blank=True)
    track_stock = models.BooleanField(default=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Upper("sku"), condition=LIVE, name="product_sku_live_uniq"),
            models.UniqueConstraint(
                "barcode",
                condition=LIVE & Q(barcode__isnull=False),
                name="product_barcode_live_uniq",
            ),
        ]
        indexes = [
            # Search uses a trigram GIN index on UPPER(name) (contains) and pattern btrees on
            # UPPER(sku), UPPER(barcode) (prefix), created in migration 0002 with SQL (Django
            # renders expression opclasses for GIN with invalid parentheses).
            models.Index(fields=["name"], condition=LIVE, name="product_live_name_idx"),
            models.Index(fields=["status", "name"], condition=LIVE, name="product_status_name_idx"),
            models.Index(fields=["category"], condition=LIVE, name="product_category_idx"),
            models.Index(fields=["brand"], condition=LIVE, name="product_brand_idx"),
            models.Index(fields=["sell_price"], condition=LIVE, name="product_price_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductVariant(SoftDeleteModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=200)  # "M / Red", from the attribute values
    sku = models.CharField(max_length=64)
    barcode = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001  (NULL: none; unique when set)
    # Null: the product's price / cost applies.
    price = money_field(null=True, blank=True)
    cost = cost_field(null=True, blank=True)
    values = models.ManyToManyField(VariantTypeValue, related_name="variants", blank=True)
    # Sorted ids of `values`: one live variant per combination and product.
    combination_key = models.CharField(max_length=400)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Upper("sku"), condition=LIVE, name="variant_sku_live_uniq"),
            models.UniqueConstraint(
                "barcode",
                condition=LIVE & Q(barcode__isnull=False),
                name="variant_barcode_live_uniq",
            ),
            models.UniqueConstraint(
                fields=["product", "combination_key"],
                condition=LIVE,
                name="variant_combination_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductImage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image_id = models.UUIDField()  # apps.media.ImageAsset in the public schema
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return str(self.image_id)
