"""Loyalty points: earned, redeemed and reversed by sales, adjusted by hand, and expired when the
company's program dates them — all through `_points_post`, which checks the points held on the
locked row."""

from __future__ import annotations

import calendar
from datetime import datetime
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from apps.core.db import qualified_table
from apps.core.errors import BusinessRuleViolation, ErrorCode, ValidationFailed
from apps.customers.models import Customer, LoyaltyEntry, LoyaltyType
from apps.customers.services.common import POINTS, Reference, customer_lock, ledger_post, text
from apps.tenants.selectors import tenant_settings_cached

MAX_POINTS = 1_000_000_000


def _points(points: int, field: str = "points", *, signed: bool = False) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValidationFailed.for_field(field, "Must be a whole number.")
    if points == 0 or (points < 0 and not signed):
        raise ValidationFailed.for_field(
            field, "Must not be zero." if signed else "Must be greater than zero."
        )
    if abs(points) > MAX_POINTS:
        raise ValidationFailed.for_field(field, "Too large.")
    return points


def _program():
    return tenant_settings_cached(tenant=connection.tenant)


def _insufficient_points(held: int, points: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"The customer holds {held} points: {points} cannot be taken.",
        code=ErrorCode.INSUFFICIENT_POINTS,
        details=[{"field": "points", "message": f"At most {held} can be taken."}],
    )


def months_later(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _points_post(
    *,
    actor,
    customer_id: UUID,
    type: LoyaltyType,
    points: int,
    check=None,
    reference: Reference | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyEntry:
    """Adds `points` (signed) to the customer's points, with their history row; taking more
    than held is 422 INSUFFICIENT_POINTS. Credited points expire after the company's
    `loyalty_points_expiry_months`, when set."""
    now = now or timezone.now()
    expiry_months = _program().loyalty_points_expiry_months if points > 0 else None

    def points_check(customer: Customer) -> None:
        if check is not None:
            check(customer)
        if customer.loyalty_points + points < 0:
            raise _insufficient_points(customer.loyalty_points, -points)

    return ledger_post(
        POINTS,
        actor=actor,
        customer_id=customer_id,
        type=type,
        change=points,
        check=points_check,
        reference=reference,
        note=note,
        now=now,
        extra={"expires_at": months_later(now, expiry_months) if expiry_months else None},
    )


def loyalty_earn(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Points earned on a sale (the caller computes them from the program)."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.EARN,
        points=_points(points),
        reference=reference,
        note=note,
    )


def loyalty_redeem(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Points spent: the program must be on (422 LOYALTY_DISABLED), at least its minimum (422
    BELOW_MIN_REDEEM) and no more than held (422 INSUFFICIENT_POINTS)."""
    points = _points(points)
    program = _program()
    if not program.loyalty_enabled:
        raise BusinessRuleViolation("The loyalty program is off.", code=ErrorCode.LOYALTY_DISABLED)
    if points < program.loyalty_min_redeem_points:
        raise BusinessRuleViolation(
            f"At least {program.loyalty_min_redeem_points} points must be redeemed at once.",
            code=ErrorCode.BELOW_MIN_REDEEM,
            details=[
                {
                    "field": "points",
                    "message": f"At least {program.loyalty_min_redeem_points}.",
                }
            ],
        )
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.REDEEM,
        points=-points,
        reference=reference,
        note=note,
    )


def loyalty_reverse(
    *, actor, customer_id: UUID, points: int, reference: Reference | None = None, note=""
) -> LoyaltyEntry:
    """Undoes points of a returned or voided sale: negative takes earned points back (never
    below zero: 422 INSUFFICIENT_POINTS, so the caller settles a shortfall otherwise), positive
    gives redeemed points back."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.REVERSE,
        points=_points(points, signed=True),
        reference=reference,
        note=note,
    )


def loyalty_adjust(*, actor, customer_id: UUID, points: int, reason: str) -> LoyaltyEntry:
    """A manual correction with a reason; never below zero (422 INSUFFICIENT_POINTS)."""
    return _points_post(
        actor=actor,
        customer_id=customer_id,
        type=LoyaltyType.ADJUST,
        points=_points(points, signed=True),
        note=text(reason, "reason", required=True),
    )


_EXPIRED_SQL = """
SELECT COALESCE(SUM(points) FILTER (WHERE points > 0 AND expires_at <= %(now)s), 0),
       COALESCE(-SUM(points) FILTER (WHERE points < 0), 0)
FROM {entries} WHERE customer_id = %(customer)s
"""


def loyalty_expire(*, customer_id: UUID, now: datetime | None = None) -> LoyaltyEntry | None:
    """Expires the customer's points whose date has passed, as one EXPIRE row (None when none
    are due). Points spent are counted against the soonest-expiring credits first, so what
    expires is: credits expired by `now` - everything ever taken (redeemed, reversed, adjusted
    down, expired before), never more than held. Running it again expires nothing more."""
    now = now or timezone.now()
    with transaction.atomic():
        customer = customer_lock(customer_id)
        with connection.cursor() as cursor:
            cursor.execute(
                _EXPIRED_SQL.format(entries=qualified_table("customers_loyaltyentry")),
                {"now": now, "customer": customer.pk},
            )
            expired_credits, taken = cursor.fetchone()
        due = min(max(int(expired_credits) - int(taken), 0), customer.loyalty_points)
        if due == 0:
            return None
        return _points_post(
            actor=None,
            customer_id=customer.pk,
            type=LoyaltyType.EXPIRE,
            points=-due,
            note="Points expired.",
            now=now,
        )


def loyalty_expire_due(*, now: datetime | None = None) -> int:
    """Expires due points of every customer of the current company; returns how many customers
    lost points. Idempotent: a second run at the same time finds nothing due."""
    now = now or timezone.now()
    candidates = (
        Customer.objects.alive()
        .filter(loyalty_points__gt=0)
        .filter(
            pk__in=LoyaltyEntry.objects.filter(expires_at__lte=now, points__gt=0).values(
                "customer_id"
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in candidates if loyalty_expire(customer_id=pk, now=now) is not None)
