"""A store's own receipt template. The company's template is part of its settings
(`TenantSettings.receipt_*`); a store with a row here prints with this instead, whole."""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel
from apps.tenants.receipt_layout import DEFAULT_LOCALE, TEXT_MAX


class ReceiptTemplate(BaseModel):
    store = models.OneToOneField(
        "stores.Store", on_delete=models.CASCADE, related_name="receipt_template"
    )
    header = models.TextField(blank=True, max_length=TEXT_MAX)
    footer = models.TextField(blank=True, max_length=TEXT_MAX)
    show_logo = models.BooleanField(default=True)
    fields = models.JSONField(default=dict)  # every key of layout.FIELD_DEFAULTS
    return_policy_text = models.TextField(blank=True, max_length=TEXT_MAX)
    paper = models.CharField(max_length=8, default="80mm")
    locale = models.CharField(max_length=16, default=DEFAULT_LOCALE)

    def __str__(self) -> str:
        return f"receipt template of {self.store_id}"
