from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.money import cost_serializer_field, money_serializer_field
from apps.core.phones import PHONE_INPUT, PHONE_OUTPUT
from apps.core.serializers import QuantityField, UnknownFieldsRefused
from apps.purchasing.models import (
    PaymentMethod,
    PurchaseOrder,
    PurchaseOrderItem,
    PurchaseReceipt,
    Supplier,
    SupplierPayment,
)


# --- suppliers ------------------------------------------------------------------------------------
class SupplierSerializer(serializers.ModelSerializer):
    balance = money_serializer_field(help_text="What the shop owes the supplier")

    class Meta:
        model = Supplier
        fields = [
            "id", "name", "contact_name", "email", "phone", "tax_id", "address",
            "payment_terms_days", "notes", "balance", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"phone": {"help_text": PHONE_OUTPUT}}


class SupplierInputSerializer(serializers.Serializer):
    """Types and lengths; trimming and uniqueness are the service's."""

    name = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=PHONE_INPUT
    )
    tax_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    payment_terms_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, allow_null=True
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class OrderSummarySerializer(serializers.ModelSerializer):
    due_amount = money_serializer_field()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "status", "total", "currency", "paid_total", "due_amount", "created_at",
        ]  # fmt: skip


class SupplierLedgerEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["RECEIPT", "PAYMENT"])
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    number = serializers.CharField()
    amount = money_serializer_field(help_text="Goods received +, payments -")
    balance = money_serializer_field()
    at = serializers.DateTimeField()


class SupplierDetailSerializer(SupplierSerializer):
    recent_orders = OrderSummarySerializer(many=True)
    ledger = SupplierLedgerEntrySerializer(many=True)

    class Meta(SupplierSerializer.Meta):
        fields = [*SupplierSerializer.Meta.fields, "recent_orders", "ledger"]


# --- purchase orders ------------------------------------------------------------------------------
class OrderItemSerializer(serializers.ModelSerializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    quantity = QuantityField()
    received_quantity = QuantityField()
    unit_cost = cost_serializer_field()

    class Meta:
        model = PurchaseOrderItem
        fields = [
            "id", "product_id", "variant_id", "quantity", "received_quantity", "unit_cost",
            "line_total",
        ]  # fmt: skip


class ReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = PurchaseReceipt
        fields = ["id", "value", "note", "received_by", "created_at"]


class SupplierPaymentSerializer(serializers.ModelSerializer):
    order_id = serializers.UUIDField()
    supplier_id = serializers.UUIDField()

    class Meta:
        model = SupplierPayment
        fields = [
            "id", "order_id", "supplier_id", "amount", "currency", "method", "reference", "paid_at",
            "created_by", "created_at",
        ]  # fmt: skip


class PurchaseSerializer(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField()
    supplier_name = serializers.CharField(source="supplier.name")
    store_id = serializers.UUIDField()
    due_amount = money_serializer_field()
    payable_total = money_serializer_field(
        help_text="total, or what was received once the order was closed short"
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "status", "supplier_id", "supplier_name", "store_id", "expected_at",
            "note", "currency", "total", "received_total", "paid_total", "payable_total",
            "due_amount", "closed_short", "created_by", "created_at", "updated_at",
        ]  # fmt: skip


class PurchaseDetailSerializer(PurchaseSerializer):
    items = OrderItemSerializer(many=True)
    receipts = ReceiptSerializer(many=True)
    payments = SupplierPaymentSerializer(many=True)

    class Meta(PurchaseSerializer.Meta):
        fields = [*PurchaseSerializer.Meta.fields, "items", "receipts", "payments"]


class OrderLineInput(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    quantity = QuantityField()
    unit_cost = cost_serializer_field(min_value=Decimal("0"))


class PurchaseInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    supplier_id = serializers.UUIDField()
    store_id = serializers.UUIDField()
    expected_at = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    items = OrderLineInput(many=True)


class GoodsReceiveLineInput(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = QuantityField()


class GoodsReceiveInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    items = GoodsReceiveLineInput(many=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class PaymentInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    amount = money_serializer_field(min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    paid_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
