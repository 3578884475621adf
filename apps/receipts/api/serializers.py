from __future__ import annotations

from rest_framework import serializers

from apps.core.money import money_serializer_field, quantity_serializer_field, rate_serializer_field
from apps.receipts.selectors import Document
from apps.tenants import receipt_layout as layout


def _money(**kwargs):
    return money_serializer_field(**kwargs)


# --- templates ------------------------------------------------------------------------------------
class TemplateFieldsSerializer(serializers.Serializer):
    cashier = serializers.BooleanField()
    customer = serializers.BooleanField()
    tax_summary = serializers.BooleanField()
    qr = serializers.BooleanField()
    loyalty = serializers.BooleanField()
    return_policy = serializers.BooleanField()


class ReceiptTemplateSerializer(serializers.Serializer):
    header = serializers.CharField()
    footer = serializers.CharField()
    show_logo = serializers.BooleanField()
    fields = TemplateFieldsSerializer()
    return_policy_text = serializers.CharField()
    paper = serializers.ChoiceField(choices=list(layout.PAPERS))
    locale = serializers.CharField()
    store_id = serializers.UUIDField(allow_null=True)


class TemplateFieldsInputSerializer(serializers.Serializer):
    """The parts to show or hide; a name that is not one of them is a 400."""

    cashier = serializers.BooleanField(required=False)
    customer = serializers.BooleanField(required=False)
    tax_summary = serializers.BooleanField(required=False)
    qr = serializers.BooleanField(required=False)
    loyalty = serializers.BooleanField(required=False)
    return_policy = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class ReceiptTemplateInputSerializer(serializers.Serializer):
    """What is sent is set; what is not stays as it is."""

    header = serializers.CharField(max_length=layout.TEXT_MAX, allow_blank=True, required=False)
    footer = serializers.CharField(max_length=layout.TEXT_MAX, allow_blank=True, required=False)
    show_logo = serializers.BooleanField(required=False)
    fields = TemplateFieldsInputSerializer(required=False)
    return_policy_text = serializers.CharField(
        max_length=layout.TEXT_MAX, allow_blank=True, required=False
    )
    paper = serializers.ChoiceField(choices=list(layout.PAPERS), required=False)
    locale = serializers.CharField(max_length=16, required=False)


# --- receipts -------------------------------------------------------------------------------------
class ReceiptQuerySerializer(serializers.Serializer):
    """The query of every receipt operation (and `gift=true|false`, read as a flag)."""

    document = serializers.ChoiceField(choices=Document.ALL, required=False)
    return_id = serializers.UUIDField(required=False)
    paper = serializers.ChoiceField(choices=list(layout.PAPERS), required=False)

    def validate(self, attrs):
        document = attrs.get("document") or (
            Document.RETURN if "return_id" in attrs else Document.SALE
        )
        if document == Document.RETURN and "return_id" not in attrs:
            raise serializers.ValidationError({"return_id": "Required for a return receipt."})
        return {**attrs, "document": document}


class ReceiptOutputQuerySerializer(ReceiptQuerySerializer):
    format = serializers.ChoiceField(choices=["json", "html", "pdf", "text"], required=False)


class ReceiptCompanySerializer(serializers.Serializer):
    name = serializers.CharField()
    legal_name = serializers.CharField()
    tax_id = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    logo_url = serializers.CharField(allow_null=True)


class ReceiptStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    code = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    receipt_header = serializers.CharField()


class ReceiptPersonSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()


class ReceiptCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class ReceiptItemSerializer(serializers.Serializer):
    """Prices are absent from a gift receipt."""

    name = serializers.CharField()
    sku = serializers.CharField()
    quantity = quantity_serializer_field()
    unit_price = _money(required=False)
    discount = _money(required=False)
    tax_rate = rate_serializer_field(required=False)
    tax = _money(required=False)
    total = _money(required=False)
    restock = serializers.BooleanField(required=False)  # return receipts


class ReceiptTaxRowSerializer(serializers.Serializer):
    rate = rate_serializer_field()
    base = _money()
    tax = _money()


class ReceiptDiscountsSerializer(serializers.Serializer):
    line = _money()
    group = _money()
    cart = _money()
    points = _money()


class ReceiptTotalsSerializer(serializers.Serializer):
    subtotal = _money()
    discount_total = _money()
    tax_total = _money()
    rounding_adjustment = _money()
    total = _money()


class ReceiptPaymentSerializer(serializers.Serializer):
    method = serializers.CharField()
    amount = _money()
    reference = serializers.CharField()


class ReceiptLoyaltySerializer(serializers.Serializer):
    earned = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    reversed = serializers.IntegerField()
    balance = serializers.IntegerField()


class ReceiptDataSerializer(serializers.Serializer):
    document = serializers.ChoiceField(choices=Document.ALL)
    title = serializers.CharField()
    number = serializers.CharField()
    sale_id = serializers.UUIDField()
    sale_number = serializers.CharField()
    return_id = serializers.UUIDField(allow_null=True)
    issued_at = serializers.DateTimeField()
    time_zone = serializers.CharField()
    issued_at_local = serializers.CharField(help_text="ISO 8601 in the store's time zone")
    copy = serializers.BooleanField(help_text="A print after the first receipt given")
    print_number = serializers.IntegerField(
        help_text="1 the original, 2+ copies; 0 for a preview or data read (not counted)"
    )
    gift = serializers.BooleanField()
    paper = serializers.CharField()
    locale = serializers.CharField()
    currency = serializers.CharField(help_text="The document's own, as stored when it was made")
    prices_include_tax = serializers.BooleanField(
        help_text="The document's pricing mode, as stored: true, the tax is included in the "
        "subtotal and total; false, taxTotal is added to them"
    )
    company = ReceiptCompanySerializer()
    store = ReceiptStoreSerializer()
    header = serializers.CharField()
    footer = serializers.CharField()
    cashier = ReceiptPersonSerializer(allow_null=True)
    customer = ReceiptCustomerSerializer(allow_null=True)
    reason = serializers.CharField()
    items = ReceiptItemSerializer(many=True)
    tax_summary = ReceiptTaxRowSerializer(many=True)
    discounts = ReceiptDiscountsSerializer(allow_null=True)
    totals = ReceiptTotalsSerializer(allow_null=True)
    payments = ReceiptPaymentSerializer(many=True)
    change_due = _money(allow_null=True)
    due_amount = _money(allow_null=True)
    loyalty = ReceiptLoyaltySerializer(allow_null=True)
    return_policy = serializers.CharField(allow_null=True)
    qr_payload = serializers.CharField(allow_null=True)


class SaleReceiptSerializer(serializers.Serializer):
    data = ReceiptDataSerializer()
    html = serializers.CharField()


class ReceiptLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class ReceiptEmailInputSerializer(serializers.Serializer):
    to = serializers.EmailField(max_length=254)


class ReceiptEmailSerializer(serializers.Serializer):
    to = serializers.EmailField()
    number = serializers.CharField()
    print_number = serializers.IntegerField()
