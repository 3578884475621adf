from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers
from rest_framework.fields import DateTimeField

from apps.core.money import cents, cost_places, cost_serializer_field, money_serializer_field
from apps.core.serializers import (
    QuantityField,
    UnknownFieldsRefused,
    WholeNumberField,
    quantity_text,
)
from apps.sales import selectors
from apps.sales.api.approval import ApprovalInput
from apps.sales.models import Payment, PaymentMethod, Sale, SaleItem, SaleReturn, SaleReturnItem

DISCOUNT_TYPES = [("PERCENT", "PERCENT"), ("AMOUNT", "AMOUNT")]


# --- output ---------------------------------------------------------------------------------------
class SaleItemSerializer(serializers.ModelSerializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    quantity = QuantityField()
    returned_quantity = QuantityField()
    unit_cost = serializers.SerializerMethodField(help_text="null for cashiers")

    class Meta:
        model = SaleItem
        fields = [
            "id", "product_id", "variant_id", "name", "sku", "quantity", "unit_price",
            "discount_amount", "tax_rate", "tax_amount", "line_total", "unit_cost",
            "returned_quantity",
        ]  # fmt: skip

    def get_unit_cost(self, item) -> cost_serializer_field(allow_null=True):
        if self.context.get("hide_cost"):
            return None
        return cost_serializer_field().to_representation(item.unit_cost)


class TenderedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "method", "amount", "reference"]


class ReturnItemSerializer(serializers.ModelSerializer):
    item_id = serializers.UUIDField(source="sale_item_id")
    quantity = QuantityField()

    class Meta:
        model = SaleReturnItem
        fields = ["item_id", "quantity", "refund_amount", "tax_amount", "restock"]


class SaleReturnSerializer(serializers.ModelSerializer):
    sale_id = serializers.UUIDField()
    items = ReturnItemSerializer(many=True)
    sale = serializers.SerializerMethodField()

    class Meta:
        model = SaleReturn
        fields = [
            "id", "number", "sale_id", "items", "refund_total", "currency", "prices_include_tax",
            "refund_method", "reason", "points_reversed", "sale", "created_at",
        ]  # fmt: skip

    def get_sale(self, sale_return) -> dict:
        return {"id": str(sale_return.sale_id), "status": sale_return.sale.status}


class SaleSerializer(serializers.ModelSerializer):
    number = serializers.CharField(allow_null=True)
    store_id = serializers.UUIDField()
    customer_id = serializers.UUIDField(allow_null=True)
    items = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    class Meta:
        model = Sale
        fields = [
            "id", "number", "status", "store_id", "cashier_id", "customer_id", "client_sale_id",
            "currency", "prices_include_tax",
            "subtotal", "discount_total", "tax_total", "rounding_adjustment", "total",
            "paid_total", "change_due", "due_amount", "due_paid", "points_earned",
            "points_redeemed", "points_value", "note", "items", "payments", "created_at",
        ]  # fmt: skip

    def to_representation(self, sale):
        # The till's hot path (every checkout answers with this): built directly rather than
        # field by field, which took a third of a checkout's Python time. The declared fields
        # above stay the schema; apps/sales/tests/test_rendering.py holds the two equal.
        return sale_json(sale, hide_cost=bool(self.context.get("hide_cost")))

    def generic_representation(self, sale):
        """DRF's field-by-field rendering of the declared fields (what `sale_json` must equal)."""
        data = super().to_representation(sale)
        data["number"] = sale.number or None  # a quote has none
        return data

    def get_items(self, sale) -> SaleItemSerializer(many=True):
        return SaleItemSerializer(selectors.sale_lines(sale), many=True, context=self.context).data

    def get_payments(self, sale) -> TenderedSerializer(many=True):
        return TenderedSerializer(selectors.sale_tendered(sale), many=True).data


class SaleDetailSerializer(SaleSerializer):
    returns = serializers.SerializerMethodField()

    class Meta(SaleSerializer.Meta):
        fields = [*SaleSerializer.Meta.fields, "returns", "voided_at", "voided_by", "void_reason"]

    def to_representation(self, sale):
        return self.generic_representation(sale)

    def get_returns(self, sale) -> SaleReturnSerializer(many=True):
        returns = list(sale.returns.all())
        for sale_return in returns:
            sale_return.sale = sale
        return SaleReturnSerializer(returns, many=True).data


_datetime = DateTimeField()


def _money(value: Decimal) -> str:
    return format(cents(value), "f")


def _cost(value: Decimal) -> str:
    return format(cost_places(value), "f")


def _uuid(value) -> str | None:
    return None if value is None else str(value)


def sale_json(sale: Sale, *, hide_cost: bool) -> dict:
    """A sale as SaleSerializer declares it (snake_case; the renderer camelCases it)."""
    return {
        "id": str(sale.pk),
        "number": sale.number or None,  # a quote has none
        "status": sale.status,
        "store_id": str(sale.store_id),
        "cashier_id": str(sale.cashier_id),
        "customer_id": _uuid(sale.customer_id),
        "client_sale_id": _uuid(sale.client_sale_id),
        "currency": sale.currency,
        "prices_include_tax": sale.prices_include_tax,
        "subtotal": _money(sale.subtotal),
        "discount_total": _money(sale.discount_total),
        "tax_total": _money(sale.tax_total),
        "rounding_adjustment": _money(sale.rounding_adjustment),
        "total": _money(sale.total),
        "paid_total": _money(sale.paid_total),
        "change_due": _money(sale.change_due),
        "due_amount": _money(sale.due_amount),
        "due_paid": _money(sale.due_paid),
        "points_earned": sale.points_earned,
        "points_redeemed": sale.points_redeemed,
        "points_value": _money(sale.points_value),
        "note": sale.note,
        "items": [
            {
                "id": str(item.pk),
                "product_id": str(item.product_id),
                "variant_id": _uuid(item.variant_id),
                "name": item.name,
                "sku": item.sku,
                "quantity": quantity_text(item.quantity),
                "unit_price": _money(item.unit_price),
                "discount_amount": _money(item.discount_amount),
                "tax_rate": _money(item.tax_rate),
                "tax_amount": _money(item.tax_amount),
                "line_total": _money(item.line_total),
                "unit_cost": None if hide_cost else _cost(item.unit_cost),
                "returned_quantity": quantity_text(item.returned_quantity),
            }
            for item in selectors.sale_lines(sale)
        ],
        "payments": [
            {
                "id": str(payment.pk),
                "method": payment.method,
                "amount": _money(payment.amount),
                "reference": payment.reference,
            }
            for payment in selectors.sale_tendered(sale)
        ],
        "created_at": _datetime.to_representation(sale.created_at),
    }


# --- input ----------------------------------------------------------------------------------------
class DiscountInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=DISCOUNT_TYPES)
    value = money_serializer_field(min_value=Decimal("0"))


class CartItemInput(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    quantity = QuantityField()
    unit_price = money_serializer_field(
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        help_text="A price override: ADMIN and MANAGER only (403)",
    )
    discount = DiscountInput(required=False, allow_null=True)

    def validate_quantity(self, value):
        if value <= 0:
            raise serializers.ValidationError("Must be greater than zero.")
        return value


class TenderInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = money_serializer_field(min_value=Decimal("0.01"))
    reference = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class CheckoutInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    store_id = serializers.UUIDField()
    customer_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    client_sale_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Made by the till: a retry with it returns the stored sale (200)",
    )
    items = CartItemInput(many=True, allow_empty=False)
    discount = DiscountInput(required=False, allow_null=True)
    redeem_points = WholeNumberField(required=False, min_value=0, default=0)
    payments = TenderInput(many=True, required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    approval = ApprovalInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Needed when a discount or price override goes beyond the seller's limit",
    )


class VoidInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReturnLineInput(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = QuantityField()
    restock = serializers.BooleanField(required=False, default=True)


class ReturnInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    items = ReturnLineInput(many=True, allow_empty=False)
    refund_method = serializers.ChoiceField(
        choices=[PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.STORE_CREDIT]
    )
    reason = serializers.CharField(max_length=500)


# --- payments -------------------------------------------------------------------------------------
class PaymentSerializer(serializers.ModelSerializer):
    store_id = serializers.UUIDField()
    sale_id = serializers.UUIDField(allow_null=True)
    sale_number = serializers.CharField(source="sale.number", allow_null=True, default=None)
    customer_id = serializers.UUIDField(allow_null=True)
    return_id = serializers.UUIDField(source="sale_return_id", allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id", "kind", "method", "amount", "currency", "reference", "store_id", "sale_id",
            "sale_number",
            "customer_id", "return_id", "created_by", "created_at",
        ]  # fmt: skip


class AllocationSerializer(serializers.Serializer):
    sale_id = serializers.UUIDField()
    sale_number = serializers.CharField(source="sale.number")
    amount = money_serializer_field()


class PaymentDetailSerializer(PaymentSerializer):
    allocations = AllocationSerializer(many=True, help_text="Due sales this payment settled")

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "allocations"]


class CollectDueInputSerializer(UnknownFieldsRefused, serializers.Serializer):
    customer_id = serializers.UUIDField()
    amount = money_serializer_field(min_value=Decimal("0.01"))
    method = serializers.ChoiceField(
        choices=[
            PaymentMethod.CASH,
            PaymentMethod.CARD,
            PaymentMethod.MOBILE,
            PaymentMethod.BANK_TRANSFER,
        ]
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    store_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The store taking it (default: the store of the oldest sale it settles)",
    )


class DueSettledSerializer(serializers.Serializer):
    sale_id = serializers.UUIDField(source="sale.pk")
    number = serializers.CharField(source="sale.number")
    due_amount = money_serializer_field(source="sale.due_amount")
    paid = money_serializer_field(help_text="By this payment")
    remaining = money_serializer_field()


class DueCollectionSerializer(serializers.Serializer):
    payment = PaymentSerializer()
    sales = DueSettledSerializer(many=True, source="settled")
    balance = money_serializer_field(help_text="What the customer owes after it")
