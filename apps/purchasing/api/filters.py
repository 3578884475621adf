from __future__ import annotations

import django_filters

from apps.core.filters import period_filter
from apps.purchasing.models import PurchaseOrder, PurchaseStatus
from apps.tenants.selectors import company_time_zone


class PurchaseFilter(django_filters.FilterSet):
    supplier_id = django_filters.UUIDFilter()
    store_id = django_filters.UUIDFilter()
    status = django_filters.ChoiceFilter(choices=PurchaseStatus.choices)
    number = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = PurchaseOrder
        fields: list[str] = []

    def filter_queryset(self, queryset):
        return period_filter(
            self.request,
            super().filter_queryset(queryset),
            time_zone=company_time_zone(self.request.user.tenant),
        )
