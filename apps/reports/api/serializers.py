from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.money import (
    cost_serializer_field,
    money_serializer_field,
    money_total_serializer_field,
    percent_serializer_field,
    quantity_serializer_field,
    quantity_total_serializer_field,
    rate_serializer_field,
    ratio_serializer_field,
)


def _money(**kwargs):
    return money_total_serializer_field(**kwargs)


def _quantity():
    return quantity_total_serializer_field()


class SalesFiguresSerializer(serializers.Serializer):
    """The sales figures in accounting terms (README, "Report words"): all without tax but
    `tax`, `rounding` and `totalCollected`; grossSales - discounts - returns = netSales, and
    netSales + tax + rounding = totalCollected."""

    count = serializers.IntegerField()
    gross_sales = _money(help_text="Quantity x unit price of the lines sold, without tax")
    discounts = _money(help_text="The lines' discounts, without tax")
    returns = _money(help_text="Refunds of returned lines, without tax")
    net_sales = _money(help_text="grossSales - discounts - returns (without tax)")
    tax = _money(help_text="The sales' tax less the tax given back by returns")
    rounding = _money(help_text="Cash rounding of the sales less the rounding refunded")
    total_collected = _money(help_text="The sales' totals (tax, rounding) less the refunds")
    net = _money(help_text="Deprecated name of totalCollected")


class SalesTotalsSerializer(SalesFiguresSerializer):
    gross = _money(help_text="Deprecated name of grossSales")
    voids = _money(help_text="Totals of the sales voided in the period")
    average_basket = _money(help_text="totalCollected / count")


class ReportMethodTotalSerializer(serializers.Serializer):
    method = serializers.CharField()
    total = _money()


class SalesPointSerializer(SalesFiguresSerializer):
    period = serializers.DateField()

    def get_fields(self):
        fields = super().get_fields()
        return {"period": fields.pop("period"), **fields}


class SalesReportSerializer(serializers.Serializer):
    totals = SalesTotalsSerializer()
    by_payment_method = ReportMethodTotalSerializer(many=True)
    series = SalesPointSerializer(many=True)


class ExpenseCategoryTotalSerializer(serializers.Serializer):
    category_id = serializers.UUIDField()
    name = serializers.CharField()
    total = _money()


class ProfitExpensesSerializer(serializers.Serializer):
    total = _money()
    by_category = ExpenseCategoryTotalSerializer(many=True)


class StoreProfitSerializer(serializers.Serializer):
    store_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    revenue = _money()
    cost_of_goods = _money()
    gross_profit = _money()
    expenses = _money()


class ProfitPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    revenue = _money()
    cost_of_goods = _money()
    gross_profit = _money()


class ProfitReportSerializer(serializers.Serializer):
    revenue = _money()
    cost_of_goods = _money()
    gross_profit = _money()
    margin = percent_serializer_field(allow_null=True)
    expenses = ProfitExpensesSerializer()
    net_profit = _money()
    by_store = StoreProfitSerializer(many=True)
    series = ProfitPointSerializer(many=True)


class StockFiguresSerializer(serializers.Serializer):
    quantity = _quantity()
    cost_value = _money()
    retail_value = _money()
    low_stock_count = serializers.IntegerField()


class LocationStockSerializer(StockFiguresSerializer):
    store_id = serializers.UUIDField()
    name = serializers.CharField()


class CategoryStockSerializer(StockFiguresSerializer):
    category_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()


class StockReportSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True)
    totals = StockFiguresSerializer()
    by_location = LocationStockSerializer(many=True)
    by_category = CategoryStockSerializer(many=True)


class CashierFiguresSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    total = _money()
    average_basket = _money()
    items_per_sale = _money()
    discounts = _money()
    voids = serializers.IntegerField()
    returns = _money()
    cash_variance = _money()


class CashierReportSerializer(serializers.Serializer):
    cashiers = CashierFiguresSerializer(many=True)


class BasketProductSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField()


class BasketRuleSerializer(serializers.Serializer):
    antecedent = BasketProductSerializer()
    consequent = BasketProductSerializer()
    baskets = serializers.IntegerField(help_text="Baskets holding both")
    support = ratio_serializer_field()
    confidence = ratio_serializer_field()
    lift = ratio_serializer_field()


class MarketBasketSerializer(serializers.Serializer):
    baskets = serializers.IntegerField()
    rules = BasketRuleSerializer(many=True)


class MarketBasketQuerySerializer(serializers.Serializer):
    min_support = ratio_serializer_field(
        min_value=0, max_value=1, required=False, default=Decimal("0.0100")
    )
    min_confidence = ratio_serializer_field(
        min_value=0, max_value=1, required=False, default=Decimal("0.1000")
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)
    exclude_product_ids = serializers.CharField(required=False, default="", allow_blank=True)

    def validate_exclude_product_ids(self, value: str):
        import uuid

        parts = [part.strip() for part in value.split(",") if part.strip()]
        if len(parts) > 100:
            raise serializers.ValidationError("At most 100 ids.")
        try:
            return [uuid.UUID(part) for part in parts]
        except ValueError:
            raise serializers.ValidationError("Comma-separated product ids (UUIDs).") from None


class TopProductSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    name = serializers.CharField()
    quantity = _quantity()
    total = _money()
    sales = serializers.IntegerField()


class TopCategorySerializer(serializers.Serializer):
    category_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    quantity = _quantity()
    total = _money()


class HeatCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="1 = Monday … 7 = Sunday")
    hour = serializers.IntegerField()
    count = serializers.IntegerField()
    total = _money()


class SalesSummarySerializer(serializers.Serializer):
    top_products = TopProductSerializer(many=True)
    top_categories = TopCategorySerializer(many=True)
    heat_map = HeatCellSerializer(many=True)


class ProfitAndLossSerializer(serializers.Serializer):
    revenue = _money()
    cost_of_goods = _money()
    gross_profit = _money()
    expenses = _money()
    net_profit = _money()


class AgeingBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    total = _money()


class ReceivablesSerializer(serializers.Serializer):
    total = _money()
    customers = serializers.IntegerField()
    ageing = AgeingBucketSerializer(many=True)


class SupplierOwedSerializer(serializers.Serializer):
    supplier_id = serializers.UUIDField()
    name = serializers.CharField()
    balance = _money()


class PayablesSerializer(serializers.Serializer):
    total = _money()
    suppliers = SupplierOwedSerializer(many=True)


class FinancialReportSerializer(serializers.Serializer):
    profit_and_loss = ProfitAndLossSerializer()
    payments_by_method = ReportMethodTotalSerializer(many=True)
    receivables = ReceivablesSerializer()
    payables = PayablesSerializer()


class ProductFlowSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    variant_name = serializers.CharField(allow_null=True)
    opening = _quantity()
    closing = _quantity()

    def get_fields(self):
        """`in` and `out` (Python keywords, so added here): quantities by movement type (SALE,
        PURCHASE, TRANSFER_IN, ...), between `opening` and `closing`."""
        fields = super().get_fields()
        closing = fields.pop("closing")
        fields["in"] = serializers.DictField(child=_quantity())
        fields["out"] = serializers.DictField(child=_quantity())
        fields["closing"] = closing
        return fields


class StockAgeSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    on_hand = _quantity()
    sold = _quantity()
    last_sold_at = serializers.DateTimeField(allow_null=True)
    days_since_last_sale = serializers.IntegerField(allow_null=True)


class InventoryReportSerializer(serializers.Serializer):
    products = ProductFlowSerializer(many=True)
    slow_movers = StockAgeSerializer(many=True)
    dead_stock = StockAgeSerializer(many=True)


class TrendFiguresSerializer(SalesTotalsSerializer):
    to = serializers.DateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField()  # a Python keyword: added here
        return fields


def _change():
    return percent_serializer_field(allow_null=True)


class TrendChangeSerializer(serializers.Serializer):
    count = _change()
    gross = _change()
    net = _change()
    returns = _change()
    average_basket = _change()
    gross_sales = _change()
    net_sales = _change()
    tax = _change()
    total_collected = _change()


class TrendsSerializer(serializers.Serializer):
    current = TrendFiguresSerializer()
    previous = TrendFiguresSerializer()
    change_percent = TrendChangeSerializer()


class ReorderSuggestionSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    sold = _quantity()
    per_day = _quantity()
    needed = _quantity()
    on_hand = _quantity()
    on_order = _quantity()
    suggested = serializers.IntegerField()


class ReorderSuggestionsSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    safety_days = serializers.IntegerField()
    suggestions = ReorderSuggestionSerializer(many=True)


class TaxFiguresSerializer(serializers.Serializer):
    base = _money(help_text="Taxable amount, without tax")
    tax = _money()
    gross = _money(help_text="base + tax")


class TaxRateSerializer(serializers.Serializer):
    rate = rate_serializer_field(help_text="Percent")
    sales = TaxFiguresSerializer()
    returns = TaxFiguresSerializer()
    net = TaxFiguresSerializer(help_text="sales - returns")


class TaxPeriodSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="The day, or the month's first day")
    rates = TaxRateSerializer(many=True)
    totals = TaxFiguresSerializer(help_text="The rates' net")


class TaxReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    rates = TaxRateSerializer(many=True)
    totals = TaxFiguresSerializer(help_text="The rates' net")
    periods = TaxPeriodSerializer(many=True, required=False, help_text="With groupBy only")


class SaleLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sale_id = serializers.UUIDField()
    sale_number = serializers.CharField(source="sale.number")
    sold_at = serializers.DateTimeField(source="sale.created_at")
    store_id = serializers.UUIDField(source="sale.store_id")
    store_code = serializers.CharField(source="sale.store.code")
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    sku = serializers.CharField()
    quantity = quantity_serializer_field()
    unit_price = money_serializer_field()
    discount = money_serializer_field(source="discount_amount")
    tax_rate = rate_serializer_field()
    tax = money_serializer_field(source="tax_amount")
    total = money_serializer_field(source="line_total")
    unit_cost = cost_serializer_field()


# the dashboards (GET /tenants/me/dashboard, GET /stores/{id}/stats)


class PeriodSerializer(serializers.Serializer):
    sales_count = serializers.IntegerField()
    sales_total = money_total_serializer_field()
    average_sale = money_total_serializer_field()


class TenantDashboardSerializer(serializers.Serializer):
    today = PeriodSerializer()
    month = PeriodSerializer()
    stores = serializers.IntegerField()
    warehouses = serializers.IntegerField()
    active_users = serializers.IntegerField()
    products = serializers.IntegerField()
    customers = serializers.IntegerField()
    stock_value = money_total_serializer_field()
    low_stock_count = serializers.IntegerField()
    open_transfers = serializers.IntegerField()
    customer_dues = money_total_serializer_field()


class MoneyCountSerializer(serializers.Serializer):
    sales_count = serializers.IntegerField()
    sales_total = money_total_serializer_field()


class StoreStatsSerializer(serializers.Serializer):
    store_id = serializers.UUIDField()
    today = MoneyCountSerializer()
    month = MoneyCountSerializer()
    stock_value = money_total_serializer_field()
    low_stock_count = serializers.IntegerField()
    open_transfers = serializers.IntegerField()
