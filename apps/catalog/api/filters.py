import django_filters

from apps.catalog.models import Product, ProductStatus
from apps.catalog.selectors import product_filter_by_category
from apps.core.filters import StrictBooleanFilter


class StatusViewFilter(django_filters.FilterSet):
    """Product filters without the status (the status views fix it themselves)."""

    category_id = django_filters.UUIDFilter(method="filter_category")  # includes subcategories
    brand_id = django_filters.UUIDFilter()
    unit_id = django_filters.UUIDFilter()
    min_price = django_filters.NumberFilter(field_name="sell_price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="sell_price", lookup_expr="lte")
    track_stock = StrictBooleanFilter()

    class Meta:
        model = Product
        fields = ["category_id", "brand_id", "unit_id", "track_stock"]

    def filter_category(self, queryset, name, value):
        return product_filter_by_category(queryset, value)


class ProductFilter(StatusViewFilter):
    status = django_filters.ChoiceFilter(choices=ProductStatus.choices)

    class Meta(StatusViewFilter.Meta):
        fields = [*StatusViewFilter.Meta.fields, "status"]
