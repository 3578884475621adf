from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import SoftDeleteModel


class StoreKind(models.TextChoices):
    RETAIL = "RETAIL"  # a shop with tills
    WAREHOUSE = "WAREHOUSE"  # a storage: stock, transfers, receiving; no checkout


class Store(SoftDeleteModel):
    name = models.CharField(max_length=150)
    code = models.CharField(max_length=20)  # upper-case, unique among live stores
    kind = models.CharField(max_length=16, choices=StoreKind.choices, default=StoreKind.RETAIL)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    # Empty: the company's time zone applies.
    timezone = models.CharField(max_length=64, blank=True)
    receipt_header = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(deleted_at__isnull=True), name="store_code_live_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StoreAssignment(models.Model):
    """A staff member works in a store. Users live in the public schema, so the reference is a
    plain UUID column (no cross-schema foreign key)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "store"], name="store_assignment_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.store_id}"
