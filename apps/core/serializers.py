"""Serializer plumbing shared by every API."""

from __future__ import annotations

import math
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_ENFORCED = False


def enforce_json_types() -> None:
    """DRF coerces JSON numbers into string and decimal fields (`{"name": 0}` becomes "0") and
    0/1/"yes" into booleans. The API documents those fields as strings (money included, so no
    float ever reaches a Decimal) and booleans; another type is a 400, like any schema
    violation."""
    global _ENFORCED
    if _ENFORCED:
        return
    _ENFORCED = True
    # UUIDField too: it turns a JSON number into a UUID (`false` became 00000000-…-0000).
    for field_class in (serializers.CharField, serializers.DecimalField, serializers.UUIDField):
        original = field_class.to_internal_value

        def to_internal_value(self, data, _original=original):
            if not isinstance(data, str):
                self.fail("invalid")
            if not data.isascii():
                try:  # a lone surrogate (valid JSON) is no UTF-8 text: PostgreSQL and the
                    data.encode("utf-8")  # password hashers refuse it later, as a 500
                except UnicodeEncodeError:
                    raise serializers.ValidationError(
                        "Surrogate characters are not allowed."
                    ) from None
            return _original(self, data)

        field_class.to_internal_value = to_internal_value

    original_boolean = serializers.BooleanField.to_internal_value

    def boolean_to_internal_value(self, data, _original=original_boolean):
        if not isinstance(data, bool):  # not "true", 1 or "yes": JSON booleans only
            self.fail("invalid", input=data)
        return _original(self, data)

    serializers.BooleanField.to_internal_value = boolean_to_internal_value

    # Free-form JSON (`attributes` and the like) is stored in jsonb, which refuses NUL characters,
    # lone surrogates and non-finite numbers (`1e400` parses as infinity): a 400 here, not a
    # DataError (500) at save time.
    for field_class in (serializers.DictField, serializers.JSONField):
        original = field_class.to_internal_value

        def storable_to_internal_value(self, data, _original=original):
            value = _original(self, data)
            problem = _jsonb_problem(value)
            if problem:
                raise serializers.ValidationError(problem)
            return value

        field_class.to_internal_value = storable_to_internal_value


def text_problem(value: str) -> str | None:
    """Why PostgreSQL would refuse `value` as text, or None: a NUL character (text cannot hold
    one) or a lone surrogate (valid in JSON, but no UTF-8). The same messages as every field of
    the API gives (DRF's NUL validator, `enforce_json_types`); callers that take text outside a
    serializer (the bulk import's rows) check with this."""
    if "\x00" in value:
        return "Null characters are not allowed."
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Surrogate characters are not allowed."
    return None


def _jsonb_problem(value) -> str | None:
    """Why PostgreSQL's jsonb would refuse `value` (a parsed JSON document), or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, float) and not math.isfinite(item):
            return "Numbers must be finite."
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


@extend_schema_field({"type": "string", "format": "decimal", "example": "2.5"})
class QuantityField(serializers.Field):
    """A stock quantity as a decimal string: in, up to 3 decimal places and 11 whole digits
    (`"2"`, `"0.125"`, `"-3"` where negatives are allowed); out, without trailing zeros
    (`"12"`, `"1.25"`), never in exponent form."""

    default_error_messages = {
        "invalid": 'Must be a decimal number written as a string, e.g. "2" or "0.5".',
        "places": "At most 3 decimal places.",
        "digits": "At most 11 digits before the decimal point.",
        "negative": "Must not be negative.",
    }

    def __init__(self, *, allow_negative: bool = False, **kwargs) -> None:
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        from decimal import Decimal, InvalidOperation

        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = Decimal(data.strip())
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        if value.as_tuple().exponent < -3:
            self.fail("places")
        if abs(value) >= Decimal("1e11"):
            self.fail("digits")
        if value < 0 and not self.allow_negative:
            self.fail("negative")
        return value.quantize(Decimal("0.001"))

    def to_representation(self, value):
        return quantity_text(value)


def quantity_text(value) -> str:
    """`Decimal("12.000")` → `"12"`, `Decimal("1.250")` → `"1.25"`."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class WholeNumberField(serializers.IntegerField):
    """A JSON integer: not "50", not 50.0, not true (DRF's IntegerField takes all three)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReferenceSerializer(serializers.Serializer):
    """The document behind a ledger row: `{type, id}` (a sale, a transfer…)."""

    type = serializers.CharField()
    id = serializers.UUIDField()


def reference_of(row) -> dict | None:
    """A ledger row's `reference_type`/`reference_id` as the wire's `reference` (or null)."""
    if row.reference_id is None:
        return None
    return {"type": row.reference_type, "id": str(row.reference_id)}


UNKNOWN_FIELD = "Unknown field."


class UnknownFieldsRefused:
    """A mixin for input serializers of money writes (checkout, returns, payments, purchases,
    expenses, the drawer's cash): a key the serializer does not declare — at the top or inside
    a nested object or a list of them (`payments.0.currency`, `items.0.foo`) — is a 400 naming
    each one with its path, instead of being silently ignored. The whole body is checked before
    any field is validated; declared read-only fields are tolerated (a client may send back what
    it read), and free-form fields (`JSONField`, `DictField`) are not looked into. Error keys are
    the parsed (snake_case) names: the exception handler turns them back into the client's
    camelCase."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = unknown_fields(self, data)
            if unknown:
                raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)


def unknown_fields(serializer: serializers.Serializer, data: Mapping) -> dict:
    """DRF's nested error structure of the keys of `data` (and of the objects nested in it) that
    `serializer` does not declare; empty when there are none."""
    errors: dict = {}
    fields = serializer.fields
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            errors[key] = [UNKNOWN_FIELD]
        elif not field.read_only:
            nested = _unknown_inside(field, value)
            if nested:
                errors[key] = nested
    return errors


def _unknown_inside(field, value):
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if not isinstance(value, list):
            return None  # the field's own validation says what is wrong
        items = [_unknown_inside(field.child, item) or {} for item in value]
        return items if any(items) else None
    if isinstance(field, serializers.Serializer) and isinstance(value, Mapping):
        return unknown_fields(field, value) or None
    return None
