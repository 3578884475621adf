from __future__ import annotations

from rest_framework import serializers

from apps.core.money import (
    money_serializer_field,
    point_value_serializer_field,
    points_rate_serializer_field,
    rate_serializer_field,
)
from apps.core.phones import PHONE_INPUT, PHONE_OUTPUT
from apps.core.serializers import (
    ReferenceSerializer,
    UnknownFieldsRefused,
    WholeNumberField,
    reference_of,
)
from apps.customers.models import Customer, CustomerGroup, CustomerLedgerEntry, LoyaltyEntry


# --- output ---------------------------------------------------------------------------------------
class GroupSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerGroup
        fields = ["id", "name", "discount_percent"]


class CustomerGroupSerializer(serializers.ModelSerializer):
    customer_count = serializers.IntegerField(help_text="Live customers in the group")

    class Meta:
        model = CustomerGroup
        fields = ["id", "name", "discount_percent", "customer_count", "created_at", "updated_at"]


class CustomerSerializer(serializers.ModelSerializer):
    group_id = serializers.UUIDField(allow_null=True)
    group = GroupSummarySerializer(allow_null=True)
    balance = money_serializer_field(
        help_text="What the customer owes (negative: store credit held)"
    )

    class Meta:
        model = Customer
        fields = [
            "id", "code", "name", "email", "phone", "tax_id", "address", "notes", "group_id",
            "group", "credit_limit", "balance", "loyalty_points", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"phone": {"help_text": PHONE_OUTPUT}}


class LedgerEntrySerializer(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()

    class Meta:
        model = CustomerLedgerEntry
        fields = [
            "id", "type", "amount", "balance_after", "reference", "note", "created_by",
            "created_at",
        ]  # fmt: skip

    def get_reference(self, entry) -> ReferenceSerializer(allow_null=True):
        return reference_of(entry)


class LoyaltyEntrySerializer(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()

    class Meta:
        model = LoyaltyEntry
        fields = [
            "id", "type", "points", "points_after", "expires_at", "reference", "note",
            "created_by", "created_at",
        ]  # fmt: skip

    def get_reference(self, entry) -> ReferenceSerializer(allow_null=True):
        return reference_of(entry)


class LoyaltyProgramSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    points_per_unit = points_rate_serializer_field()
    point_value = point_value_serializer_field()
    min_redeem_points = serializers.IntegerField()
    expiry_months = serializers.IntegerField(
        allow_null=True, help_text="Points expire this many months after credited; null: never"
    )


# --- input ----------------------------------------------------------------------------------------
class CustomerInputSerializer(serializers.Serializer):
    """Types and lengths; trimming, formats and uniqueness are the service's."""

    name = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=PHONE_INPUT
    )
    tax_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    group_id = serializers.UUIDField(required=False, allow_null=True)
    credit_limit = money_serializer_field(required=False)


class CustomerGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    discount_percent = rate_serializer_field()


class BalanceAdjustInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    amount = money_serializer_field(
        help_text="Signed: positive, the customer owes more; negative, less"
    )
    reason = serializers.CharField(max_length=500)


class LoyaltyAdjustInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    points = WholeNumberField(help_text="Signed, non-zero")
    reason = serializers.CharField(max_length=500)
