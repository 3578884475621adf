"""Serializer plumbing shared by every API."""

from __future__ import annotations

import math

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


def _jsonb_problem(value) -> str | None:
    """Why PostgreSQL's jsonb would refuse `value` (a parsed JSON document), or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "Null characters are not allowed."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Surrogate characters are not allowed."
        elif isinstance(item, float) and not math.isfinite(item):
            return "Numbers must be finite."
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None
