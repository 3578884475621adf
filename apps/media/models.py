from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class ImageAsset(models.Model):
    """An uploaded image. Kept in the public schema so `GET /api/v1/images/:id` can serve it
    without a token (receipts, web shops); the id is random, the owning tenant recorded.

    The bytes live in the row: uploads are capped (IMAGE_MAX_BYTES), the write is transactional
    with the product change that uses it (no orphan files on rollback), and responses carry
    long-lived caching headers so the database serves each image rarely."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    content_type = models.CharField(max_length=32)
    byte_size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.id} ({self.content_type}, {self.byte_size} B)"
