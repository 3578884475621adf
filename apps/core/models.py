from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class DeferredLoadedTogether(models.Model):
    """Deferred fields load together: the first one read loads every deferred field of the
    instance in one query (Django's default is one query per field read). For rows read with
    only their hot columns (the request's user, company, settings and plan: see
    apps.users.selectors.auth_user_get)."""

    class Meta:
        abstract = True

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is not None:
            deferred = self.get_deferred_fields()
            requested = set(fields)
            if requested & deferred:
                fields = requested | deferred
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class BaseModel(models.Model):
    """UUID primary key and timestamps, for every business table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class SoftDeleteModel(BaseModel):
    """Rows are never removed: `deleted_at` marks them. Selectors read `.alive()`."""

    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one user in this tenant: its request fingerprint and, once the
    first request finished, the response to replay."""

    class State(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS"
        COMPLETED = "COMPLETED"

    id = models.BigAutoField(primary_key=True)
    user_id = models.UUIDField()
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_uniq")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class DocumentCounter(models.Model):
    """The last number given out in one series of documents (transfers, sales…) of this company.
    Incremented in the transaction that creates the document: a rolled-back document gives its
    number back, so committed numbers have no gaps."""

    series = models.CharField(max_length=64, primary_key=True)  # "sale:<store id>"
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series}: {self.last_value}"
