from datetime import UTC

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from djangorestframework_camel_case.util import (
    camel_to_underscore,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.filters import OrderingFilter

from apps.core.errors import ValidationFailed
from apps.core.renderers import camel_key


class CamelOrderingFilter(OrderingFilter):
    """`?sort=-createdAt,name`: field names arrive in camelCase like every other key."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [camel_to_underscore(param.strip()) for param in params.split(",")]
            ordering = self.remove_invalid_fields(queryset, fields, view, request)
            if ordering:
                return ordering
        return self.get_default_ordering(view)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, with its errors in our format. It ignores an empty value (`?isActive=`);
    for a typed filter (UUID, boolean, date, choice…) that is a malformed request: 400 too.
    A FilterSet may map internal names to public ones with `public_names`."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        public = getattr(filterset, "public_names", {})

        def name_of(field: str) -> str:
            return public.get(field) or camel_key(field)

        errors = [
            {"field": name_of(name), "message": "May not be empty."}
            for name, filter_ in filterset.filters.items()
            if filterset.data.get(name, None) == ""
            and not isinstance(filter_, django_filters.CharFilter)
        ]
        if not errors and not filterset.is_valid():
            errors = [
                {"field": name_of(field), "message": str(message)}
                for field, messages in filterset.errors.items()
                for message in messages
            ]
        if errors:
            raise ValidationFailed(details=errors)
        return filterset.qs


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Must be true or false.")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?isActive=true|false`; anything else is a 400 (django-filter's own ignores it)."""

    field_class = StrictBooleanField


def query_flag(request, name: str, *, field: str | None = None) -> bool:
    """A boolean query parameter: absent → false, `true`/`false` → that, anything else → 400
    (a destructive call must not read a malformed flag as "no")."""
    value = request.query_params.get(name)
    if value is None:
        return False
    if value in ("true", "false"):
        return value == "true"
    raise ValidationFailed.for_field(field or camel_key(name), "Must be true or false.")


def period_filter(request, queryset):
    """`?from=` (inclusive) and `?to=` (exclusive), ISO 8601."""
    bounds = {"from": "created_at__gte", "to": "created_at__lt"}
    for name, lookup in bounds.items():
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = parse_datetime(raw) if raw else None
            if value is not None:
                # to UTC here: PostgreSQL refuses offsets beyond ±15:59 that Python accepts
                value = (
                    value.replace(tzinfo=UTC) if timezone.is_naive(value) else value.astimezone(UTC)
                )
        except (ValueError, OverflowError):
            value = None
        if value is None:
            raise ValidationFailed.for_field(name, "Must be an ISO 8601 date-time.")
        queryset = queryset.filter(**{lookup: value})
    return queryset


PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Inclusive lower bound (ISO 8601)"),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Exclusive upper bound (ISO 8601)"),
]
