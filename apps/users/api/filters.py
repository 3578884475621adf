import django_filters

from apps.core.filters import StrictBooleanFilter
from apps.core.roles import Role
from apps.stores.models import StoreAssignment
from apps.users.models import User


class StaffFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = StrictBooleanFilter()
    store_id = django_filters.UUIDFilter(method="filter_store")

    class Meta:
        model = User
        fields = ["role", "is_active", "store_id"]

    def filter_store(self, queryset, name, value):
        return queryset.filter(
            pk__in=StoreAssignment.objects.filter(store_id=value).values("user_id")
        )


class PlatformUserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = StrictBooleanFilter()
    tenant_id = django_filters.UUIDFilter()
    deleted = StrictBooleanFilter(field_name="deleted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = User
        fields = ["role", "is_active", "tenant_id", "deleted"]
