from __future__ import annotations

from rest_framework import serializers

from apps.sales.approval import Approval


class ApprovalInput(serializers.Serializer):
    """A manager's approval of discounts beyond the seller's limit (apps.sales.approval): their
    email and password, or their user id and PIN. Checked only when the cart needs it."""

    email = serializers.EmailField(max_length=254, required=False)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, required=False, write_only=True
    )
    user_id = serializers.UUIDField(required=False)
    pin = serializers.CharField(
        max_length=32, trim_whitespace=False, required=False, write_only=True
    )

    def validate(self, attrs: dict) -> dict:
        by_password = "email" in attrs or "password" in attrs
        by_pin = "user_id" in attrs or "pin" in attrs
        if by_password == by_pin:
            raise serializers.ValidationError("Send email and password, or userId and pin.")
        needed = ("email", "password") if by_password else ("user_id", "pin")
        missing = {name: ["This field is required."] for name in needed if not attrs.get(name)}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


def approval_of(values: dict | None) -> Approval | None:
    """The validated `approval` body as the checkout's input."""
    return Approval(**values) if values else None
