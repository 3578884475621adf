"""Money and quantities are built one way (apps/core/money.py, issue 27 point 2): every decimal
column of the project's models and every decimal field of its API serializers has the precision
of one of the kinds, with the one rounding mode; the quantizers round half up; one validator."""

from __future__ import annotations

import importlib
import inspect
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import models
from rest_framework import serializers

from apps.core import money
from apps.core.errors import ValidationFailed
from apps.core.serializers import QuantityField

APPS_DIR = Path(money.__file__).resolve().parents[1]

COLUMN_KINDS = {money.MONEY, money.COST, money.QUANTITY, money.RATE}
COLUMN_KINDS |= {money.POINTS_RATE, money.POINT_VALUE}
SERIALIZER_KINDS = set(money.KINDS.values())
# Allowed other ways, each with its reason: none today.
ALLOWED: dict[str, str] = {}


def _project_models():
    return [m for m in django_apps.get_models() if m.__module__.startswith("apps.")]


def _serializer_modules():
    for path in sorted(APPS_DIR.glob("*/api/serializers.py")):
        yield importlib.import_module(f"apps.{path.parent.parent.name}.api.serializers")


def _serializer_classes():
    seen = set()
    for module in _serializer_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            ours = cls.__module__.startswith("apps.") and cls not in seen
            if ours and issubclass(cls, serializers.BaseSerializer):
                seen.add(cls)
                yield cls


def _fields(cls):
    """The serializer's fields: its instance's (generated ModelSerializer fields and those
    added in get_fields included), else the declared ones."""
    try:
        return dict(cls().fields)
    except Exception:  # a serializer that needs its context to build its fields
        return dict(getattr(cls, "_declared_fields", {}))


def _decimal_fields(cls):
    """(name, field) of every DecimalField of `cls`: its fields, their children (lists and
    dicts of decimals) and the types its method fields declare (`-> money_serializer_field()`)."""
    for name, field in _fields(cls).items():
        child = getattr(field, "child", None)
        for candidate in (field, child):
            if isinstance(candidate, serializers.DecimalField):
                yield name, candidate
        if isinstance(field, serializers.SerializerMethodField):
            method = getattr(cls, field.method_name or f"get_{name}", None)
            if method is None:
                continue
            returned = inspect.get_annotations(method, eval_str=True).get("return")
            if isinstance(returned, serializers.DecimalField):
                yield name, returned


def test_the_walks_find_the_fields():
    """The walks are not empty: a broken walk must not pass silently."""
    columns = [
        f for m in _project_models() for f in m._meta.get_fields()
        if isinstance(f, models.DecimalField)
    ]  # fmt: skip
    fields = [f for cls in _serializer_classes() for f in _decimal_fields(cls)]
    assert len(columns) > 60 and len(fields) > 150


def test_every_decimal_column_is_of_a_kind():
    wrong = [
        f"{model.__name__}.{field.name}: ({field.max_digits}, {field.decimal_places})"
        for model in _project_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.DecimalField)
        and (field.max_digits, field.decimal_places) not in COLUMN_KINDS
        and f"{model.__name__}.{field.name}" not in ALLOWED
    ]
    assert wrong == [], "columns not built with apps.core.money's factories"


def test_every_decimal_serializer_field_is_built_by_a_factory():
    wrong = []
    for cls in _serializer_classes():
        for name, field in _decimal_fields(cls):
            key = f"{cls.__module__}.{cls.__name__}.{name}"
            if key in ALLOWED:
                continue
            kind = (field.max_digits, field.decimal_places)
            # A ModelSerializer's generated field copies its column (a kind, checked above):
            # it renders values of its own precision, nothing to round.
            generated = name not in cls._declared_fields and issubclass(
                cls, serializers.ModelSerializer
            )
            if kind not in SERIALIZER_KINDS or not (generated or field.rounding == ROUND_HALF_UP):
                wrong.append(f"{key}: {kind}, rounding {field.rounding}")
    assert wrong == [], "serializer fields not built with apps.core.money's factories"


def test_input_bounds_fit_the_columns():
    """A money input never accepts more than a MONEY column holds, nor a cost more than a COST
    column (a bigger value would be a 500 at save time, not a 400)."""
    assert Decimal("1e12") == money.MAX_MONEY
    field = money.money_serializer_field()
    assert field.run_validation("999999999999.99") == Decimal("999999999999.99")
    with pytest.raises(serializers.ValidationError):
        field.run_validation("1000000000000.00")
    with pytest.raises(serializers.ValidationError):
        money.cost_serializer_field().run_validation("10000000000.0000")
    # the quantity field (QuantityField, a text field of its own) stops where QUANTITY does
    with pytest.raises(serializers.ValidationError):
        QuantityField().run_validation("100000000000")


@pytest.mark.parametrize(
    ("quantize", "value", "expected"),
    [
        (money.cents, Decimal("0.005"), Decimal("0.01")),
        (money.cents, Decimal("0.015"), Decimal("0.02")),
        (money.cents, Decimal("0.025"), Decimal("0.03")),  # half-even would give 0.02
        (money.cents, Decimal("-0.005"), Decimal("-0.01")),
        (money.cents, Decimal("2.004"), Decimal("2.00")),
        (money.cents, 3, Decimal("3.00")),
        (money.cost_places, Decimal("1.00005"), Decimal("1.0001")),
        (money.cost_places, Decimal("1.00025"), Decimal("1.0003")),
        (money.quantity_places, Decimal("0.0025"), Decimal("0.003")),
    ],
)
def test_the_quantizers_round_half_up(quantize, value, expected):
    result = quantize(value)
    assert result == expected and str(result) == str(expected)


def test_serializer_fields_render_half_up():
    assert money.money_serializer_field().to_representation(Decimal("0.125")) == "0.13"
    assert money.money_total_serializer_field().to_representation(Decimal("-2.345")) == "-2.35"


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        ("1", {}, "Must be a decimal amount."),
        (Decimal("NaN"), {}, "Must be a decimal amount."),
        (Decimal("1.001"), {}, "At most 2 decimal places."),
        (Decimal("-1"), {}, "Must not be negative."),
        (Decimal("0"), {"positive": True}, "Must be greater than zero."),
        (Decimal("-1"), {"positive": True}, "Must be greater than zero."),
        (Decimal("0"), {"signed": True}, "Must not be zero."),
        (Decimal("1e12"), {}, "Too large."),
        (Decimal("-1e12"), {"signed": True}, "Too large."),
        (Decimal("1e40"), {}, "Too large."),  # beyond the context's precision: no 500
    ],
)
def test_validate_money_refuses(value, options, message):
    with pytest.raises(ValidationFailed) as refused:
        money.validate_money(value, field="amount", **options)
    assert refused.value.details == [{"field": "amount", "message": message}]


def test_validate_money_accepts():
    assert money.validate_money(Decimal("0"), field="x") == Decimal("0.00")
    assert money.validate_money(Decimal("5.1"), field="x", positive=True) == Decimal("5.10")
    assert money.validate_money(Decimal("-999999999999.99"), field="x", signed=True) == Decimal(
        "-999999999999.99"
    )
    assert str(money.validate_money(Decimal("1.000"), field="x")) == "1.00"
