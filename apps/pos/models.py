"""The till's side: cash-drawer shifts, the drawer's cash log, Z reports, parked carts.

A shift's expected cash is derived from one log, `CashEvent`: every movement of cash in or out
of the drawer while the shift is open (a sale's cash net of change, a cash refund, the cash of
a voided sale going back, cash collected for dues, pay-ins, pay-outs, drops), each a signed
amount. Expected = opening float + the sum of the log. The log is append-only and a closed
shift and its Z report are frozen, by the database (migration 0002)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel
from apps.core.money import money_field

MAIN_DRAWER = "MAIN"


class ShiftStatus(models.TextChoices):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Shift(BaseModel):
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    drawer = models.CharField(max_length=32, default=MAIN_DRAWER)
    cashier_id = models.UUIDField()  # public-schema user: no foreign key
    status = models.CharField(max_length=10, choices=ShiftStatus.choices, default=ShiftStatus.OPEN)
    opening_float = money_field()
    opened_at = models.DateTimeField(default=timezone.now)
    # the drawer's last closing count, and how far the opening float is from it
    previous_closing_count = money_field(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.UUIDField(null=True, blank=True)
    forced = models.BooleanField(default=False)  # closed by a manager, not the shift's cashier
    blind = models.BooleanField(default=False)  # counted without seeing the expected amount
    counted_cash = money_field(null=True, blank=True)
    expected_cash = money_field(null=True, blank=True)
    variance = money_field(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cashier_id"], condition=Q(status="OPEN"), name="shift_one_open_per_cashier"
            ),
            models.UniqueConstraint(
                fields=["store", "drawer"],
                condition=Q(status="OPEN"),
                name="shift_one_open_per_drawer",
            ),
            models.CheckConstraint(
                condition=Q(opening_float__gte=0), name="shift_float_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["cashier_id", "-opened_at"], name="shift_cashier_idx"),
            models.Index(fields=["store", "drawer", "-opened_at"], name="shift_drawer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.drawer} {self.opened_at:%Y-%m-%d %H:%M} ({self.status})"


class CashEventType(models.TextChoices):
    SALE = "SALE"  # a sale's cash, net of the change given
    REFUND = "REFUND"  # cash paid back for a return
    VOID = "VOID"  # the cash of a voided sale, given back
    DUE_PAYMENT = "DUE_PAYMENT"  # cash a customer paid towards what they owe
    PAY_IN = "PAY_IN"
    PAY_OUT = "PAY_OUT"
    CASH_DROP = "CASH_DROP"  # taken to the safe


MANUAL_CASH_TYPES = (CashEventType.PAY_IN, CashEventType.PAY_OUT, CashEventType.CASH_DROP)


class CashEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="cash_events")
    type = models.CharField(max_length=20, choices=CashEventType.choices)
    amount = money_field()  # signed: into the drawer +, out of it -
    reason = models.CharField(max_length=200, blank=True)
    reference_type = models.CharField(max_length=32, blank=True)  # sale, return, payment
    reference_id = models.UUIDField(null=True, blank=True)
    created_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["shift", "created_at"], name="cash_event_shift_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.amount}"


class ZReport(models.Model):
    """The frozen end-of-shift report: numbered per store without gaps, never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shift = models.OneToOneField(Shift, on_delete=models.PROTECT, related_name="z_report")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=40, unique=True)  # Z-S1-000001
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "sequence"], name="zreport_store_sequence_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ParkedCart(BaseModel):
    """A cart put on hold at a till: the checkout body as sent, resumed once."""

    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=120, blank=True)
    cart = models.JSONField()
    created_by = models.UUIDField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["store", "-created_at"], name="parked_cart_store_idx")]

    def __str__(self) -> str:
        return self.label or str(self.pk)
