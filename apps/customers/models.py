"""Customers, their groups, and the two append-only ledgers that explain every change of what a
customer owes (`CustomerLedgerEntry`) and of their loyalty points (`LoyaltyEntry`).

`Customer.balance` and `Customer.loyalty_points` are running totals kept by exactly one writer
each (`services._balance_post`, `services._points_post`), which changes the total and appends the
ledger row in one transaction under the customer's row lock: the total always equals the sum of
its ledger."""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from apps.core.models import SoftDeleteModel
from apps.core.money import money_field, rate_field


class CustomerGroup(SoftDeleteModel):
    name = models.CharField(max_length=120)
    discount_percent = rate_field(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("name"), condition=Q(deleted_at__isnull=True), name="customer_group_name_uniq"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="customer_group_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(SoftDeleteModel):
    code = models.CharField(max_length=16, unique=True)  # C-000123, per company, never reused
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True)
    # E.164 ("+351912345678", apps.core.phones): what uniqueness compares and the API sends. Rows
    # older than migration 0003 that would have duplicated another's number keep their text.
    phone = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, max_length=1000)
    notes = models.TextField(blank=True, max_length=2000)
    group = models.ForeignKey(
        CustomerGroup,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,  # customer_group_idx below: live customers only
    )
    # What the customer may owe on account; 0 = no credit sales.
    credit_limit = money_field(default=0)
    # What the customer owes the shop (negative: store credit the shop owes the customer).
    balance = money_field(default=0)
    loyalty_points = models.BigIntegerField(default=0)
    # One lower-cased text over everything a cashier types to find a customer (trigram index).
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "code",
                Value(" "),
                "name",
                Value(" "),
                "email",
                Value(" "),
                models.Func(
                    F("phone"), Value(r"[^0-9]"), Value(""), Value("g"), function="regexp_replace"
                ),
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(deleted_at__isnull=True) & ~Q(email=""),
                name="customer_email_uniq",
            ),
            models.UniqueConstraint(
                "phone",
                condition=Q(deleted_at__isnull=True) & ~Q(phone=""),
                name="customer_phone_uniq",
            ),
            models.CheckConstraint(
                condition=Q(loyalty_points__gte=0), name="customer_points_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                Lower("name"), "id", condition=Q(deleted_at__isnull=True), name="customer_name_idx"
            ),
            models.Index(
                fields=["group"], condition=Q(deleted_at__isnull=True), name="customer_group_idx"
            ),
            GinIndex(
                fields=["search_text"],
                opclasses=["gin_trgm_ops"],
                condition=Q(deleted_at__isnull=True),
                name="customer_search_trgm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LedgerType(models.TextChoices):
    CREDIT_SALE = "CREDIT_SALE"  # + sold on account
    PAYMENT = "PAYMENT"  # - the customer paid what they owe
    REFUND = "REFUND"  # - a credit sale was returned
    STORE_CREDIT_ISSUED = "STORE_CREDIT_ISSUED"  # - the shop owes the customer more
    STORE_CREDIT_USED = "STORE_CREDIT_USED"  # + the customer spent store credit
    ADJUSTMENT = "ADJUSTMENT"  # ± opening balance or correction (managers)
    VOID = "VOID"  # - a credit sale was voided


class CustomerLedgerEntry(models.Model):
    """One change of one customer's balance. Append-only: the database refuses UPDATE and
    DELETE (migration 0002)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    type = models.CharField(max_length=24, choices=LedgerType.choices)
    amount = money_field()  # signed: + the customer owes more
    balance_after = money_field()
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.UUIDField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.UUIDField(null=True, blank=True)  # public-schema user: no foreign key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="customer_ledger_idx"),
            models.Index(
                fields=["reference_type", "reference_id"],
                condition=Q(reference_id__isnull=False),
                name="customer_ledger_ref_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} → {self.balance_after}"


class LoyaltyType(models.TextChoices):
    EARN = "EARN"
    REDEEM = "REDEEM"
    ADJUST = "ADJUST"
    REVERSE = "REVERSE"
    EXPIRE = "EXPIRE"


class LoyaltyEntry(models.Model):
    """One change of one customer's points. Append-only like the balance ledger. A credit row
    (points > 0) carries the date its points expire, when the company expires points."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    type = models.CharField(max_length=16, choices=LoyaltyType.choices)
    points = models.BigIntegerField()  # signed
    points_after = models.BigIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.UUIDField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="loyalty_entry_idx"),
            models.Index(
                fields=["expires_at"],
                condition=Q(expires_at__isnull=False),
                name="loyalty_expiry_idx",
            ),
            models.Index(
                fields=["reference_type", "reference_id"],
                condition=Q(reference_id__isnull=False),
                name="loyalty_ref_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.points} → {self.points_after}"
