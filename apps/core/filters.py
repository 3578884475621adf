import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from djangorestframework_camel_case.util import (
    camel_to_underscore,
)
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


def query_uuid(request, name: str) -> uuid.UUID | None:
    """A UUID query parameter (`store_id`: sent as `storeId`, snake-cased by the middleware):
    None when absent, 400 naming the parameter when it is not a UUID."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed.for_field(camel_key(name), "Must be a valid UUID.") from None


def period_bounds(request, *, time_zone: str = "UTC") -> tuple[datetime | None, datetime | None]:
    """`?from=` (inclusive) and `?to=` (exclusive) as UTC instants, or None where absent: a
    date-time (ISO 8601; without an offset, in `time_zone`, the company's) bounds exactly; a date
    (`2026-11-22`) means that whole day in `time_zone` — `from` its first instant, `to` up to its
    end (the day included), day boundaries where the company is, not in UTC."""
    zone = ZoneInfo(time_zone or "UTC")
    bounds: list[datetime | None] = []
    for name in ("from", "to"):
        raw = request.query_params.get(name)
        value = None if raw is None else instant_bound(raw, zone, day_end=name == "to")
        if raw is not None and value is None:
            raise ValidationFailed.for_field(
                name, "Must be a date (YYYY-MM-DD) or an ISO 8601 date-time."
            )
        bounds.append(value)
    return bounds[0], bounds[1]


def period_filter(request, queryset, *, time_zone: str = "UTC", field: str = "created_at"):
    """The rows of `queryset` whose `field` lies in the request's period (`period_bounds`)."""
    start, end = period_bounds(request, time_zone=time_zone)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def instant_bound(raw: str, zone: ZoneInfo, *, day_end: bool) -> datetime | None:
    try:
        if _DATE_ONLY.fullmatch(raw):
            day = date.fromisoformat(raw)
            if day_end:
                day += timedelta(days=1)
            value = datetime(day.year, day.month, day.day, tzinfo=zone)
        else:
            value = parse_datetime(raw) if raw else None
            if value is None:
                return None
            if timezone.is_naive(value):
                value = value.replace(tzinfo=zone)
        # to UTC here: PostgreSQL refuses offsets beyond ±15:59 that Python accepts
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_OR_DATE_TIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}

PERIOD = [
    OpenApiParameter(
        "from",
        _DATE_OR_DATE_TIME,
        description="From this date-time (inclusive), or from the start of this date, in the"
        " company's time zone (a date-time without an offset is read there too)",
    ),
    OpenApiParameter(
        "to",
        _DATE_OR_DATE_TIME,
        description="Up to this date-time (exclusive), or to the end of this date (the day"
        " included), in the company's time zone",
    ),
]
