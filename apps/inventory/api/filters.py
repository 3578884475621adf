import django_filters

from apps.catalog.selectors import category_descendant_ids
from apps.core.filters import StrictBooleanFilter
from apps.inventory.models import (
    CountStatus,
    MovementType,
    StockCount,
    StockLevel,
    StockMovement,
    Transfer,
    TransferStatus,
)


class StockLevelFilter(django_filters.FilterSet):
    store_id = django_filters.UUIDFilter()
    product_id = django_filters.UUIDFilter()
    variant_id = django_filters.UUIDFilter()
    category_id = django_filters.UUIDFilter(method="filter_category")  # includes subcategories
    low_only = StrictBooleanFilter(method="filter_low")

    class Meta:
        model = StockLevel
        fields = ["store_id", "product_id", "variant_id"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(product__category_id__in=category_descendant_ids(value))

    def filter_low(self, queryset, name, value):
        return queryset.filter(is_low=True) if value else queryset


class MovementFilter(django_filters.FilterSet):
    store_id = django_filters.UUIDFilter()
    product_id = django_filters.UUIDFilter()
    variant_id = django_filters.UUIDFilter()
    type = django_filters.ChoiceFilter(choices=MovementType.choices)
    user_id = django_filters.UUIDFilter()
    reference_type = django_filters.CharFilter()
    reference_id = django_filters.UUIDFilter()

    class Meta:
        model = StockMovement
        fields = ["store_id", "product_id", "variant_id", "type", "user_id"]


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)
    from_store_id = django_filters.UUIDFilter()
    to_store_id = django_filters.UUIDFilter()
    store_id = django_filters.UUIDFilter(method="filter_store")  # either end

    class Meta:
        model = Transfer
        fields = ["status", "from_store_id", "to_store_id"]

    def filter_store(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(from_store_id=value) | Q(to_store_id=value))


class CountFilter(django_filters.FilterSet):
    store_id = django_filters.UUIDFilter()
    status = django_filters.ChoiceFilter(choices=CountStatus.choices)

    class Meta:
        model = StockCount
        fields = ["store_id", "status"]
