import uuid

import django_filters
from django.db.models import Q

from apps.core.errors import ValidationFailed
from apps.core.filters import StrictBooleanFilter
from apps.customers.models import (
    Customer,
    CustomerLedgerEntry,
    LedgerType,
    LoyaltyEntry,
    LoyaltyType,
)


class CustomerFilter(django_filters.FilterSet):
    group_id = django_filters.CharFilter(method="filter_group", help_text="A group id, or none")
    has_balance = StrictBooleanFilter(method="filter_balance", help_text="Balance other than 0")
    owes = StrictBooleanFilter(method="filter_owes", help_text="Balance above 0 (a due)")
    has_points = StrictBooleanFilter(method="filter_points")

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_group(self, queryset, name, value):
        if value == "none":
            return queryset.filter(group_id__isnull=True)
        try:
            return queryset.filter(group_id=uuid.UUID(value))
        except ValueError:
            raise ValidationFailed.for_field("groupId", "Must be a UUID or none.") from None

    def filter_balance(self, queryset, name, value):
        return queryset.filter(~Q(balance=0)) if value else queryset.filter(balance=0)

    def filter_owes(self, queryset, name, value):
        return queryset.filter(balance__gt=0) if value else queryset.filter(balance__lte=0)

    def filter_points(self, queryset, name, value):
        return queryset.filter(loyalty_points__gt=0) if value else queryset.filter(loyalty_points=0)


class LedgerFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=LedgerType.choices)

    class Meta:
        model = CustomerLedgerEntry
        fields = ["type"]


class LoyaltyFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=LoyaltyType.choices)

    class Meta:
        model = LoyaltyEntry
        fields = ["type"]
