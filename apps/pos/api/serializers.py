from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.money import money_serializer_field, rate_serializer_field
from apps.core.serializers import QuantityField, UnknownFieldsRefused
from apps.pos.models import MAIN_DRAWER, MANUAL_CASH_TYPES, CashEvent, ParkedCart, Shift
from apps.sales.api.serializers import CheckoutInputSerializer


# --- shifts ---------------------------------------------------------------------------------------
class ShiftOpenInput(UnknownFieldsRefused, serializers.Serializer):
    store_id = serializers.UUIDField()
    opening_float = money_serializer_field(min_value=Decimal("0"))
    drawer = serializers.CharField(required=False, default=MAIN_DRAWER, max_length=32)


class CashInput(UnknownFieldsRefused, serializers.Serializer):
    type = serializers.ChoiceField(choices=[(t.value, t.value) for t in MANUAL_CASH_TYPES])
    amount = money_serializer_field(min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=200)


class CloseInput(UnknownFieldsRefused, serializers.Serializer):
    counted_cash = money_serializer_field(min_value=Decimal("0"))
    blind = serializers.BooleanField(required=False, default=False)


class MethodTotalSerializer(serializers.Serializer):
    method = serializers.CharField()
    total = money_serializer_field()


class OutsideShiftSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    cash = money_serializer_field()


class XReportSerializer(serializers.Serializer):
    """The shift's figures now (what the Z report freezes at the close)."""

    shift_id = serializers.UUIDField(source="shift.id")
    store_id = serializers.UUIDField(source="shift.store_id")
    drawer = serializers.CharField(source="shift.drawer")
    status = serializers.CharField(source="shift.status")
    opening_float = money_serializer_field()
    cash_sales = money_serializer_field(help_text="Cash taken for sales, net of change")
    cash_refunds = money_serializer_field()
    cash_voids = money_serializer_field(help_text="Cash given back for voided sales")
    cash_due_payments = money_serializer_field(help_text="Cash collected for dues")
    pay_ins = money_serializer_field()
    pay_outs = money_serializer_field()
    drops = money_serializer_field()
    expected_cash = money_serializer_field(
        help_text="openingFloat + cashSales - cashRefunds - cashVoids + cashDuePayments"
        " + payIns - payOuts - drops",
    )
    by_method = MethodTotalSerializer(many=True, help_text="Net money by payment method")
    sales_count = serializers.IntegerField()
    sales_total = money_serializer_field(help_text="Sales made, voided ones excluded")
    discount_total = money_serializer_field()
    tax_total = money_serializer_field()
    voided_sales_count = serializers.IntegerField(help_text="Of the sales made, voided since")
    returns_count = serializers.IntegerField()
    returns_total = money_serializer_field()
    voids_count = serializers.IntegerField(help_text="Sales voided during the shift")
    voids_total = money_serializer_field()
    outside_shift = OutsideShiftSerializer(
        help_text="Cash taken or paid out at the store with no drawer open, since its previous"
        " Z report: not in expectedCash"
    )
    generated_at = serializers.DateTimeField()


class ZReportSerializer(serializers.Serializer):
    """The frozen report: its number, and the shift's figures and count at the close."""

    id = serializers.UUIDField()
    number = serializers.CharField()
    created_at = serializers.DateTimeField()
    figures = serializers.DictField(
        source="data",
        help_text="The X report's fields at the close, plus countedCash, variance, forced, blind",
    )


class ShiftSerializer(serializers.ModelSerializer):
    store_id = serializers.UUIDField()
    float_difference = serializers.SerializerMethodField(
        help_text="openingFloat minus the drawer's last closing count (null: no earlier count)"
    )
    z_report = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = [
            "id", "store_id", "drawer", "cashier_id", "status", "opening_float", "opened_at",
            "previous_closing_count", "float_difference", "closed_at", "closed_by", "forced",
            "blind", "counted_cash", "expected_cash", "variance", "z_report",
        ]  # fmt: skip

    def get_float_difference(self, shift) -> money_serializer_field(allow_null=True):
        if shift.previous_closing_count is None:
            return None
        return str(shift.opening_float - shift.previous_closing_count)

    def get_z_report(self, shift) -> ZReportSerializer(allow_null=True):
        report = getattr(shift, "z_report", None) if shift.status == "CLOSED" else None
        return None if report is None else ZReportSerializer(report).data


class CashEventSerializer(serializers.ModelSerializer):
    shift_id = serializers.UUIDField()

    class Meta:
        model = CashEvent
        fields = ["id", "shift_id", "type", "amount", "reason", "created_by", "created_at"]


# --- carts ----------------------------------------------------------------------------------------
class ParkInput(serializers.Serializer):
    store_id = serializers.UUIDField()
    label = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    cart = serializers.DictField(help_text="The checkout body as the till would send it")

    def validate(self, attrs):
        # the cart must be a valid checkout body for this store, except that its payments may
        # still be missing (keys arrive snake_cased, like every request body)
        cart = attrs["cart"]
        if cart.get("store_id", str(attrs["store_id"])) != str(attrs["store_id"]):
            raise serializers.ValidationError({"cart": {"store_id": ["Not the cart's store."]}})
        body = {
            **cart,
            "store_id": str(attrs["store_id"]),
            "payments": cart.get("payments") or [{"method": "CASH", "amount": "0.01"}],
        }
        check = CheckoutInputSerializer(data=body)
        if not check.is_valid():
            raise serializers.ValidationError({"cart": check.errors})
        # a manager's password or PIN is for the request it came with: never kept with the cart
        attrs["cart"] = {key: value for key, value in cart.items() if key != "approval"}
        return attrs


class ParkedCartSerializer(serializers.ModelSerializer):
    store_id = serializers.UUIDField()
    cart = serializers.DictField()

    class Meta:
        model = ParkedCart
        fields = ["id", "store_id", "label", "cart", "created_by", "created_at", "expires_at"]


# --- till reads -----------------------------------------------------------------------------------
class TillItemSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    sku = serializers.CharField()
    barcode = serializers.CharField(allow_null=True)
    price = money_serializer_field()
    tax_rate = rate_serializer_field()
    track_stock = serializers.BooleanField()
    allows_fraction = serializers.BooleanField()
    unit = serializers.CharField(allow_null=True)
    category_id = serializers.UUIDField(allow_null=True)
    stock = QuantityField(allow_null=True, help_text="At the store; null: not tracked")


class TillCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    balance = money_serializer_field()
    credit_limit = money_serializer_field()
    loyalty_points = serializers.IntegerField()
    group_discount_percent = rate_serializer_field(
        source="group.discount_percent", allow_null=True, default=None
    )


class ContextStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    code = serializers.CharField()
    timezone = serializers.CharField(allow_blank=True)


class TillSettingsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    timezone = serializers.CharField()
    tax_rate = rate_serializer_field()
    prices_include_tax = serializers.BooleanField()
    cash_rounding = serializers.CharField()
    invoice_prefix = serializers.CharField()
    require_open_shift = serializers.BooleanField()
    void_window_hours = serializers.IntegerField()
    parked_cart_hours = serializers.IntegerField()
    loyalty = serializers.DictField()
    receipt = serializers.DictField()


class ContextSerializer(serializers.Serializer):
    user = serializers.DictField()
    stores = ContextStoreSerializer(many=True)
    store = ContextStoreSerializer(allow_null=True)
    settings = TillSettingsSerializer()
    open_shift = ShiftSerializer(allow_null=True)
