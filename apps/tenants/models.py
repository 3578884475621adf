from __future__ import annotations

import uuid

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class TenantStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class Tenant(TenantMixin):
    """A company. Its business data lives in its own PostgreSQL schema (`schema_name`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    status = models.CharField(
        max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE
    )
    # The migrated schema new tenants are cloned from; hidden from every listing.
    is_template = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_suspended(self) -> bool:
        return self.status == TenantStatus.SUSPENDED


class Domain(DomainMixin):
    """A host name that serves exactly one tenant (and accepts only that tenant's tokens)."""

    def __str__(self) -> str:
        return self.domain
