from __future__ import annotations

from rest_framework import serializers

from apps.core.money import money_serializer_field
from apps.core.serializers import UnknownFieldsRefused
from apps.expenses.models import Expense, ExpenseCategory, ExpensePaymentMethod


class ExpenseCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpenseCategory
        fields = ["id", "name", "created_at", "updated_at"]


class ExpenseCategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class ReferenceNameSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ExpenseSerializer(serializers.ModelSerializer):
    category_id = serializers.UUIDField()
    category = ReferenceNameSerializer()
    store_id = serializers.UUIDField(allow_null=True)
    store = ReferenceNameSerializer(allow_null=True)

    class Meta:
        model = Expense
        fields = [
            "id", "category_id", "category", "store_id", "store", "amount", "currency", "date",
            "description", "payment_method", "reference", "created_by", "created_at", "updated_at",
        ]  # fmt: skip


class ExpenseInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    """Types and lengths; amounts > 0 and live ids are the service's checks."""

    category_id = serializers.UUIDField()
    store_id = serializers.UUIDField(required=False, allow_null=True)
    amount = money_serializer_field()
    date = serializers.DateField(help_text="YYYY-MM-DD: the company's calendar day")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    payment_method = serializers.ChoiceField(
        choices=ExpensePaymentMethod.choices, required=False, allow_blank=True
    )
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True)


class NamedTotalSerializer(serializers.Serializer):
    total = money_serializer_field()
    count = serializers.IntegerField()


class CategoryTotalSerializer(NamedTotalSerializer):
    category_id = serializers.UUIDField()
    name = serializers.CharField()


class StoreTotalSerializer(NamedTotalSerializer):
    store_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField(allow_null=True, help_text="null: expenses of no store")


class MonthTotalSerializer(NamedTotalSerializer):
    month = serializers.CharField(help_text="YYYY-MM")


class ExpenseSummarySerializer(serializers.Serializer):
    total = money_serializer_field()
    count = serializers.IntegerField()
    by_category = CategoryTotalSerializer(many=True)
    by_store = StoreTotalSerializer(many=True)
    by_month = MonthTotalSerializer(many=True)
