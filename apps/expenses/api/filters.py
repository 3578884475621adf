from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from apps.core.filters import period_days
from apps.expenses import selectors
from apps.expenses.models import Expense

DAYS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="From this day (included)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="To this day (included)"),
]


def days_between(request, queryset):
    """`?from=&to=`: expenses dated from, to (both days included); checked as every period
    parameter is (`period_days`: dates in the supported years, `to` not before `from`)."""
    start, end = period_days(request)
    return selectors.expenses_between(queryset, start=start, end=end)


class ExpenseFilter(django_filters.FilterSet):
    store_id = django_filters.UUIDFilter()
    category_id = django_filters.UUIDFilter()
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Expense
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(description__icontains=value) | Q(reference__icontains=value))

    def filter_queryset(self, queryset):
        return days_between(self.request, super().filter_queryset(queryset))
