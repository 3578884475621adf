from __future__ import annotations

from rest_framework import serializers

from apps.core.money import cents, cost_serializer_field, money_total_serializer_field
from apps.core.serializers import QuantityField, ReferenceSerializer, reference_of
from apps.inventory.models import (
    AdjustmentReason,
    CountScope,
    MovementType,
    StockCount,
    StockMovement,
    Transfer,
)
from apps.inventory.services import MAX_ITEMS


# --- output ---------------------------------------------------------------------------------------
class StockLevelSerializer(serializers.Serializer):
    """A level of the stock list (`selectors.stock_level_list`) or of an adjust's answer
    (`services.LevelView`): the same flat attributes."""

    store_id = serializers.UUIDField()
    store_name = serializers.CharField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    product_name = serializers.CharField()
    variant_name = serializers.CharField(allow_null=True)
    sku = serializers.CharField()
    quantity = QuantityField()
    low_stock_threshold = QuantityField(source="threshold", help_text="Effective threshold")
    is_low = serializers.BooleanField()
    unit_cost = cost_serializer_field()
    stock_value = money_total_serializer_field()
    updated_at = serializers.DateTimeField()


class StockLevelsSerializer(serializers.Serializer):
    items = StockLevelSerializer(many=True)


class MovementSerializer(serializers.ModelSerializer):
    store_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    delta = QuantityField(allow_negative=True)
    quantity_after = QuantityField(allow_negative=True)
    reference = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id", "store_id", "product_id", "variant_id", "type", "delta", "quantity_after",
            "reason", "note", "reference", "user_id", "created_at",
        ]  # fmt: skip

    def get_reference(self, movement) -> ReferenceSerializer(allow_null=True):  # type: ignore[valid-type]
        return reference_of(movement)


class TransferItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    quantity = QuantityField()
    received_quantity = QuantityField(allow_null=True)
    shortfall = serializers.SerializerMethodField(help_text="Shipped but not received")

    def get_shortfall(self, item) -> str | None:
        if item.received_quantity is None:
            return None
        return QuantityField().to_representation(item.quantity - item.received_quantity)


class TransferSerializer(serializers.ModelSerializer):
    from_store_id = serializers.UUIDField()
    to_store_id = serializers.UUIDField()
    items = TransferItemSerializer(many=True)

    class Meta:
        model = Transfer
        fields = [
            "id", "number", "status", "from_store_id", "to_store_id", "note", "items",
            "created_by", "shipped_at", "shipped_by", "received_at", "received_by",
            "cancelled_at", "cancelled_by", "created_at", "updated_at",
        ]  # fmt: skip


# --- input ----------------------------------------------------------------------------------------
class ItemInput(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class AdjustItemInput(ItemInput):
    delta = QuantityField(allow_negative=True)


class SetItemInput(ItemInput):
    quantity = QuantityField()
    expected_quantity = QuantityField(required=False, allow_null=True, default=None)


class AdjustInputSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    items = AdjustItemInput(many=True, allow_empty=False, max_length=MAX_ITEMS)


class SetInputSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    items = SetItemInput(many=True, allow_empty=False, max_length=MAX_ITEMS)


class ThresholdInputSerializer(serializers.Serializer):
    threshold = QuantityField(allow_null=True, help_text="null: the company default applies")
    variant_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class TransferItemInput(ItemInput):
    quantity = QuantityField()


class TransferInputSerializer(serializers.Serializer):
    from_store_id = serializers.UUIDField()
    to_store_id = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    items = TransferItemInput(many=True, allow_empty=False, max_length=MAX_ITEMS)


class ReceivedItemInput(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = QuantityField()


class ReceiveInputSerializer(serializers.Serializer):
    items = ReceivedItemInput(
        many=True, required=False, max_length=MAX_ITEMS, help_text="Omitted: all arrived"
    )


MOVEMENT_TYPES = MovementType.choices


class StockCountLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    product_name = serializers.CharField()
    sku = serializers.CharField()
    expected_quantity = QuantityField(allow_negative=True, help_text="The books when counted")
    counted_quantity = QuantityField()
    difference = serializers.SerializerMethodField()
    unit_cost = cost_serializer_field(source="cost")
    value_difference = serializers.SerializerMethodField()
    counted_at = serializers.DateTimeField()
    counted_by = serializers.UUIDField(allow_null=True)

    def get_difference(self, line) -> str:
        return QuantityField().to_representation(line.counted_quantity - line.expected_quantity)

    def get_value_difference(self, line) -> str:
        value = (line.counted_quantity - line.expected_quantity) * line.cost
        return str(cents(value))


class StockCountVarianceSerializer(serializers.Serializer):
    lines_counted = serializers.IntegerField()
    lines_different = serializers.IntegerField()
    units_over = QuantityField()
    units_short = QuantityField()
    value_over = money_total_serializer_field()
    value_short = money_total_serializer_field()
    value_difference = money_total_serializer_field()


class StockCountSerializer(serializers.ModelSerializer):
    store_id = serializers.UUIDField()
    lines = StockCountLineSerializer(many=True)
    variance = serializers.SerializerMethodField()

    class Meta:
        model = StockCount
        fields = [
            "id", "number", "store_id", "scope", "status", "note", "lines", "variance",
            "created_by", "finalized_at", "finalized_by", "cancelled_at", "cancelled_by",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_variance(self, count) -> StockCountVarianceSerializer:  # type: ignore[valid-type]
        from apps.inventory.selectors import count_variance

        return StockCountVarianceSerializer(count_variance(count)).data


class StockCountInputSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=CountScope.choices, default=CountScope.PARTIAL)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CountedItemInput(ItemInput):
    quantity = QuantityField()


class StockCountSubmitSerializer(serializers.Serializer):
    items = CountedItemInput(many=True, allow_empty=False, max_length=MAX_ITEMS)
