"""What the shop spends outside purchasing: rent, wages, utilities… by category and store."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.core.models import SoftDeleteModel
from apps.core.money import money_field

LIVE = Q(deleted_at__isnull=True)


class ExpenseCategory(SoftDeleteModel):
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("name"), condition=LIVE, name="expense_category_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ExpensePaymentMethod(models.TextChoices):
    CASH = "CASH"
    CARD = "CARD"
    BANK_TRANSFER = "BANK_TRANSFER"
    MOBILE = "MOBILE"
    OTHER = "OTHER"


class Expense(SoftDeleteModel):
    category = models.ForeignKey(ExpenseCategory, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field()
    currency = models.CharField(max_length=3)  # the company's when recorded
    date = models.DateField()  # the company's calendar day it belongs to
    description = models.CharField(max_length=500, blank=True)
    payment_method = models.CharField(
        max_length=20, choices=ExpensePaymentMethod.choices, blank=True
    )
    reference = models.CharField(max_length=120, blank=True)
    created_by = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive")
        ]
        indexes = [
            models.Index(fields=["-date", "-created_at"], condition=LIVE, name="expense_date_idx"),
            models.Index(fields=["category", "-date"], condition=LIVE, name="expense_category_idx"),
            models.Index(fields=["store", "-date"], condition=LIVE, name="expense_store_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"
