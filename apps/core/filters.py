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
from apps.core.hooks import Hook
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


# The company's time zone (where its days begin and end) for the layers below tenants (the audit
# trail's period filter): apps.tenants.selectors.company_time_zone, registered by the tenants app.
company_time_zone = Hook("company time zone", provider="apps.tenants")


def day_and_month_start(*, time_zone: str, now=None) -> tuple[datetime, datetime]:
    """The start of today and of this month in the company's time zone (as aware datetimes)."""
    local = timezone.localtime(now or timezone.now(), ZoneInfo(time_zone or "UTC"))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today.replace(day=1)


# The years a period parameter (`from`, `to`, `asOf`) may name: wider than any shop's records,
# and narrow enough that no arithmetic on a bound — a time-zone shift, a day or a month added,
# the trends' previous period of the same length taken off — leaves the years Python's datetime
# holds (1 to 9999): `from=0001-01-01` used to end in OverflowError (a 500).
PERIOD_YEARS = (2000, 2100)
_DATE_OR_INSTANT = "Must be a date (YYYY-MM-DD) or an ISO 8601 date-time."


def period_bounds(request, *, time_zone: str = "UTC") -> tuple[datetime | None, datetime | None]:
    """`?from=` (inclusive) and `?to=` (exclusive) as UTC instants, or None where absent: a
    date-time (ISO 8601; without an offset, in `time_zone`, the company's) bounds exactly; a date
    (`2026-11-22`) means that whole day in `time_zone` — `from` its first instant, `to` up to its
    end (the day included), day boundaries where the company is, not in UTC.

    The one check of every period parameter: each a date or date-time in `PERIOD_YEARS` (400
    naming it otherwise), and `to` after `from` (400 on `to`)."""
    zone = ZoneInfo(time_zone or "UTC")
    start = instant_param(request, "from", zone, day_end=False)
    end = instant_param(request, "to", zone, day_end=True)
    if start is not None and end is not None and end <= start:
        raise ValidationFailed.for_field("to", "Must be after from.")
    return start, end


def period_days(request) -> tuple[date | None, date | None]:
    """`?from=` and `?to=` as calendar days (both included; rows dated by day, like expenses),
    or None where absent; the same checks as `period_bounds`: each a date in `PERIOD_YEARS`,
    `to` not before `from`."""
    days: list[date | None] = []
    for name in ("from", "to"):
        raw = request.query_params.get(name)
        day = None
        if raw is not None:
            day = _local_bound(raw, UTC) if _DATE_ONLY.fullmatch(raw) else None
            if day is None:
                raise ValidationFailed.for_field(name, "Must be a date (YYYY-MM-DD).")
            _year_check(name, day.year)
        days.append(day and day.date())
    if days[0] is not None and days[1] is not None and days[1] < days[0]:
        raise ValidationFailed.for_field("to", "Must not be before from.")
    return days[0], days[1]


def instant_param(request, name: str, zone: ZoneInfo, *, day_end: bool) -> datetime | None:
    """One period parameter (`name` as the camelCase middleware delivers it) as a UTC instant,
    None when absent (see `period_bounds`); 400 naming it when it is no date or date-time, or
    names a year outside `PERIOD_YEARS`."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    field = camel_key(name)
    local = _local_bound(raw, zone)
    if local is None:
        raise ValidationFailed.for_field(field, _DATE_OR_INSTANT)
    _year_check(field, local.year)
    return instant_bound(raw, zone, day_end=day_end)


def _year_check(field: str, year: int) -> None:
    low, high = PERIOD_YEARS
    if not low <= year <= high:
        raise ValidationFailed.for_field(field, f"Must be a date in the years {low} to {high}.")


def period_filter(request, queryset, *, time_zone: str = "UTC", field: str = "created_at"):
    """The rows of `queryset` whose `field` lies in the request's period (`period_bounds`)."""
    start, end = period_bounds(request, time_zone=time_zone)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def instant_bound(raw: str, zone: ZoneInfo, *, day_end: bool) -> datetime | None:
    """`raw` (a date or a date-time, see `period_bounds`) as a UTC instant, None when it is
    neither or names a year outside `PERIOD_YEARS` (callers that name the parameter in their
    answer use `instant_param`)."""
    local = _local_bound(raw, zone)
    if local is None or not PERIOD_YEARS[0] <= local.year <= PERIOD_YEARS[1]:
        return None
    if day_end and _DATE_ONLY.fullmatch(raw):
        local += timedelta(days=1)  # the day included (cannot overflow: the year is checked)
    # to UTC here: PostgreSQL refuses offsets beyond ±15:59 that Python accepts
    return local.astimezone(UTC)


def _local_bound(raw: str, zone: ZoneInfo) -> datetime | None:
    """`raw` as an aware date-time as sent (a date: its first instant in `zone`), or None."""
    try:
        if _DATE_ONLY.fullmatch(raw):
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=zone)
        value = parse_datetime(raw) if raw else None
        if value is None:
            return None
        return value.replace(tzinfo=zone) if timezone.is_naive(value) else value
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
        " company's time zone (a date-time without an offset is read there too); years 2000 to"
        " 2100",
    ),
    OpenApiParameter(
        "to",
        _DATE_OR_DATE_TIME,
        description="Up to this date-time (exclusive), or to the end of this date (the day"
        " included), in the company's time zone; after `from`, years 2000 to 2100",
    ),
]
