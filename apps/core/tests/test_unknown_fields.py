"""Issue 26, point 11: a key an input serializer of a money write does not declare is a 400
naming it with its path — at the top, inside a nested object, inside a list of them — instead of
being silently ignored (`apps.core.serializers.UnknownFieldsRefused`)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework import serializers

from apps.core.exceptions import flatten_details
from apps.core.serializers import UnknownFieldsRefused


class _Line(serializers.Serializer):
    product_id = serializers.UUIDField()
    discount = serializers.DictField(required=False)  # free-form: not looked into


class _Tender(serializers.Serializer):
    amount = serializers.CharField()


class _Body(UnknownFieldsRefused, serializers.Serializer):
    store_id = serializers.CharField()
    items = _Line(many=True)
    payments = _Tender(many=True, required=False)
    tender = _Tender(required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    number = serializers.CharField(read_only=True)


PID = "8d7d3c1e-5b7a-4c3e-9f0e-2b1a0c9d8e7f"


def details(data) -> list[dict]:
    body = _Body(data=data)
    assert not body.is_valid()
    return flatten_details(body.errors)


def test_unknown_keys_are_named_with_their_camel_case_paths():
    # keys arrive snake_cased (the camel-case parser), errors leave camelCased
    assert details(
        {
            "store_id": "s",
            "client_note": "?",
            "items": [{"product_id": PID}, {"product_id": PID, "foo": 1}],
            "payments": [{"amount": "1.00", "currency": "EUR"}],
            "tender": {"amount": "1", "extra_bit": True},
        }
    ) == [
        {"field": "clientNote", "message": "Unknown field."},
        {"field": "items.1.foo", "message": "Unknown field."},
        {"field": "payments.0.currency", "message": "Unknown field."},
        {"field": "tender.extraBit", "message": "Unknown field."},
    ]


def test_declared_read_only_free_form_and_wrong_shapes_are_left_to_the_fields():
    body = _Body(
        data={
            "store_id": "s",
            "number": "INV-1",  # read-only: sent back as read, ignored as before
            "items": [{"product_id": PID, "discount": {"anything": 1}}],
            "tags": ["a"],
        }
    )
    assert body.is_valid(), body.errors
    assert body.validated_data == {
        "store_id": "s",
        "items": [{"product_id": uuid.UUID(PID), "discount": {"anything": 1}}],
        "tags": ["a"],
    }
    # a list where an object belongs is the field's own error, not an unknown key
    assert details({"store_id": "s", "items": {"product_id": PID}}) == [
        {"field": "items", "message": 'Expected a list of items but got type "dict".'}
    ]


@pytest.mark.parametrize("data", [[], "x", None])
def test_a_body_that_is_not_an_object_is_the_serializers_own_error(data):
    body = _Body(data=data)
    assert not body.is_valid()


def test_the_schema_says_which_request_bodies_refuse_unknown_keys():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    strict = sorted(n for n, s in schemas.items() if s.get("additionalProperties") is False)
    assert strict == [
        "ApprovalInputRequest", "BalanceAdjustInputRequest", "CartItemInputRequest",
        "CashInputRequest", "CheckoutInputRequest", "CloseInputRequest", "CollectDueInputRequest",
        "DiscountInputRequest", "ExpenseInputRequest", "GoodsReceiveInputRequest",
        "GoodsReceiveLineInputRequest", "LoyaltyAdjustInputRequest", "OrderLineInputRequest",
        "PatchedExpenseInputRequest", "PaymentInputRequest", "PurchaseInputRequest",
        "ReturnInputRequest", "ReturnLineInputRequest", "ShiftOpenInputRequest",
        "TenderInputRequest", "VoidInputRequest",
    ]  # fmt: skip
