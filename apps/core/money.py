"""Money and quantities, one way (issue 27, point 2).

Every decimal the API stores or shows is of one *kind*, and each kind has one precision
(`max_digits`, `decimal_places`):

========================  ==========  ======================================================
kind                      precision   what
========================  ==========  ======================================================
``MONEY``                 14, 2       an amount in the company's currency: prices, totals,
                                      balances, payments (stored, and every money input)
``MONEY_TOTAL``           18, 2       a sum computed for a report or a dashboard (shown only,
                                      never stored nor read from a client: it may exceed a
                                      column)
``COST``                  14, 4       a unit cost (kept to 4 places)
``QUANTITY``              14, 3       a quantity of stock
``QUANTITY_TOTAL``        18, 3       a sum of quantities computed for a report (shown only)
``RATE``                  5, 2        a percent set by a user: a tax rate, a discount percent
``PERCENT``               12, 2       a percent computed for a report (margin, change)
``RATIO``                 14, 4       a ratio computed for a report (support, confidence,
                                      lift) and the thresholds that filter them
``POINTS_RATE``           8, 2        loyalty points earned per unit of currency
``POINT_VALUE``           8, 4        what one loyalty point is worth
========================  ==========  ======================================================

Model fields come from the ``*_field`` factories, serializer fields from the
``*_serializer_field`` ones; ``apps/core/tests/test_money_fields.py`` fails on a decimal field
built any other way. A serializer's bound is never wider than the column it is stored in (a
bigger value would be a database error, a 500, instead of a 400).

Rounding: one mode, **half up** (``ROUND_HALF_UP``: 0.005 → 0.01, -0.005 → -0.01), for the
quantizers below and for every serializer field (DRF's default would be the context's
half-even). ``cents``, ``cost_places`` and ``quantity_places`` are the only quantizers of money,
costs and quantities.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from django.db import models
from rest_framework import serializers

from apps.core.errors import ValidationFailed

ROUNDING = ROUND_HALF_UP


class Kind(NamedTuple):
    max_digits: int
    decimal_places: int


MONEY = Kind(14, 2)
MONEY_TOTAL = Kind(18, 2)
COST = Kind(14, 4)
QUANTITY = Kind(14, 3)
QUANTITY_TOTAL = Kind(18, 3)
RATE = Kind(5, 2)
PERCENT = Kind(12, 2)
RATIO = Kind(14, 4)
POINTS_RATE = Kind(8, 2)
POINT_VALUE = Kind(8, 4)
KINDS = {
    "MONEY": MONEY, "MONEY_TOTAL": MONEY_TOTAL, "COST": COST, "QUANTITY": QUANTITY,
    "QUANTITY_TOTAL": QUANTITY_TOTAL, "RATE": RATE, "PERCENT": PERCENT, "RATIO": RATIO,
    "POINTS_RATE": POINTS_RATE, "POINT_VALUE": POINT_VALUE,
}  # fmt: skip

CENT = Decimal("0.01")
COST_STEP = Decimal("0.0001")
QUANTITY_STEP = Decimal("0.001")
# The first amount a MONEY column cannot hold (14 digits, 2 of them places).
MAX_MONEY = Decimal(10) ** (MONEY.max_digits - MONEY.decimal_places)


# --- quantizers -----------------------------------------------------------------------------------
def cents(value: Decimal | int) -> Decimal:
    """`value` to the cent, half up."""
    return Decimal(value).quantize(CENT, rounding=ROUNDING)


def cost_places(value: Decimal | int) -> Decimal:
    """`value` to 4 places (a unit cost), half up."""
    return Decimal(value).quantize(COST_STEP, rounding=ROUNDING)


def quantity_places(value: Decimal | int) -> Decimal:
    """`value` to 3 places (a quantity), half up."""
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUNDING)


# --- model fields ---------------------------------------------------------------------------------
def _model_field(kind: Kind, kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=kind.max_digits, decimal_places=kind.decimal_places, **kwargs
    )


def money_field(**kwargs) -> models.DecimalField:
    return _model_field(MONEY, kwargs)


def money_total_field(**kwargs) -> models.DecimalField:
    """For a computed sum's expression (`output_field`), not a column."""
    return _model_field(MONEY_TOTAL, kwargs)


def cost_field(**kwargs) -> models.DecimalField:
    return _model_field(COST, kwargs)


def quantity_field(**kwargs) -> models.DecimalField:
    return _model_field(QUANTITY, kwargs)


def rate_field(**kwargs) -> models.DecimalField:
    return _model_field(RATE, kwargs)


def points_rate_field(**kwargs) -> models.DecimalField:
    return _model_field(POINTS_RATE, kwargs)


def point_value_field(**kwargs) -> models.DecimalField:
    return _model_field(POINT_VALUE, kwargs)


# --- serializer fields ----------------------------------------------------------------------------
def _serializer_field(kind: Kind, kwargs) -> serializers.DecimalField:
    kwargs.setdefault("rounding", ROUNDING)
    return serializers.DecimalField(
        max_digits=kind.max_digits, decimal_places=kind.decimal_places, **kwargs
    )


def money_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(MONEY, kwargs)


def money_total_serializer_field(**kwargs) -> serializers.DecimalField:
    """A computed sum, shown only (never an input: no column holds more than MONEY)."""
    return _serializer_field(MONEY_TOTAL, kwargs)


def cost_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(COST, kwargs)


def quantity_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(QUANTITY, kwargs)


def quantity_total_serializer_field(**kwargs) -> serializers.DecimalField:
    """A computed sum of quantities, shown only."""
    return _serializer_field(QUANTITY_TOTAL, kwargs)


def rate_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(RATE, kwargs)


def percent_serializer_field(**kwargs) -> serializers.DecimalField:
    """A computed percent, shown only."""
    return _serializer_field(PERCENT, kwargs)


def ratio_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(RATIO, kwargs)


def points_rate_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(POINTS_RATE, kwargs)


def point_value_serializer_field(**kwargs) -> serializers.DecimalField:
    return _serializer_field(POINT_VALUE, kwargs)


# --- the validator --------------------------------------------------------------------------------
def validate_money(
    value: Decimal, *, field: str, positive: bool = False, signed: bool = False
) -> Decimal:
    """A currency amount given to a service: a finite Decimal, at most 2 places, below
    MAX_MONEY in size and not negative — greater than zero with `positive`, any sign but zero
    with `signed`. Returns it to the cent; else ValidationFailed naming `field`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed.for_field(field, "Must be a decimal amount.")
    try:
        exact = value == value.quantize(CENT)
    except InvalidOperation:  # more digits than the context holds: far too large
        raise ValidationFailed.for_field(field, "Too large.") from None
    if not exact:
        raise ValidationFailed.for_field(field, "At most 2 decimal places.")
    if signed:
        if value == 0:
            raise ValidationFailed.for_field(field, "Must not be zero.")
    elif positive:
        if value <= 0:
            raise ValidationFailed.for_field(field, "Must be greater than zero.")
    elif value < 0:
        raise ValidationFailed.for_field(field, "Must not be negative.")
    if abs(value) >= MAX_MONEY:
        raise ValidationFailed.for_field(field, "Too large.")
    return value.quantize(CENT)
