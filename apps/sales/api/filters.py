import django_filters

from apps.core.filters import period_filter
from apps.sales.models import Payment, PaymentKind, PaymentMethod, Sale, SaleStatus
from apps.tenants.selectors import company_time_zone


class SaleFilter(django_filters.FilterSet):
    store_id = django_filters.UUIDFilter()
    cashier_id = django_filters.UUIDFilter()
    customer_id = django_filters.UUIDFilter()
    status = django_filters.ChoiceFilter(choices=SaleStatus.choices)
    payment_method = django_filters.ChoiceFilter(
        choices=PaymentMethod.choices, method="filter_method"
    )
    number = django_filters.CharFilter(lookup_expr="iexact")
    min_total = django_filters.NumberFilter(field_name="total", lookup_expr="gte")
    max_total = django_filters.NumberFilter(field_name="total", lookup_expr="lte")

    class Meta:
        model = Sale
        fields: list[str] = []

    def filter_method(self, queryset, name, value):
        return queryset.filter(payments__method=value, payments__kind=PaymentKind.SALE).distinct()

    def filter_queryset(self, queryset):
        return period_filter(
            self.request,
            super().filter_queryset(queryset),
            time_zone=company_time_zone(self.request.user.tenant),
        )


class PaymentFilter(django_filters.FilterSet):
    method = django_filters.ChoiceFilter(choices=PaymentMethod.choices)
    kind = django_filters.ChoiceFilter(choices=PaymentKind.choices)
    store_id = django_filters.UUIDFilter()
    customer_id = django_filters.UUIDFilter()
    sale_id = django_filters.UUIDFilter()

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_queryset(self, queryset):
        return period_filter(
            self.request,
            super().filter_queryset(queryset),
            time_zone=company_time_zone(self.request.user.tenant),
        )
