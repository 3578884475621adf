"""Console list pages over big tables (the audit trail, the log store): typed-in filters reachable
by URL (`?from=&to=`, `?request_id=`, `?tenant=`) instead of sidebars listing every value, and a
paginator whose count stops at `COUNT_CAP` rows instead of counting the whole table per page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode

from apps.core.filters import instant_bound

COUNT_CAP = 10_000  # rows counted at most per list page (the pages beyond: narrow the filters)
_UTC = ZoneInfo("UTC")


class CappedCountPaginator(Paginator):
    """Counts at most `COUNT_CAP` + 1 rows (`SELECT COUNT(*) FROM (... LIMIT n)`): a list page
    over millions of rows costs one bounded scan, not a COUNT(*) of the table."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        """More rows than were counted (the page says "more than N")."""
        return self.count > COUNT_CAP

    @property
    def cap(self) -> int:
        return COUNT_CAP


class InputFilter(admin.ListFilter):
    """A sidebar filter with text inputs (one per parameter) instead of a list of links: no query
    to list the values, and each parameter is a plain query-string key a link can carry.
    Subclasses set `parameters` [(name, label)] and implement `filter(queryset, values)`."""

    template = "admin/input_filter.html"
    parameters: Sequence[tuple[str, str]] = ()
    input_type = "text"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name, _label in self.parameters:
            if name in params:
                value = params.pop(name)[-1].strip()
                if value:
                    self.used_parameters[name] = value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [name for name, _label in self.parameters]

    def choices(self, changelist):
        names = self.expected_parameters()
        yield {
            "inputs": [
                (name, label, self.used_parameters.get(name, "")) for name, label in self.parameters
            ],
            "input_type": self.input_type,
            # the page's other parameters ride along as hidden fields (the page number resets)
            "hidden": [
                (key, value)
                for key, values in changelist.filter_params.items()
                if key not in names
                for value in values
            ],
            "clear_url": changelist.get_query_string(remove=names),
            "active": bool(self.used_parameters),
        }

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if not self.used_parameters:
            return queryset
        return self.filter(queryset, self.used_parameters)

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        raise NotImplementedError


class PeriodFilter(InputFilter):
    """`?from=` (inclusive) and `?to=` (exclusive; a date: that day included), a date or a
    date-time, UTC: the platform's days, as the API's `from`/`to`. Set `field`."""

    title = "period (UTC)"
    parameters = (("from", "From (YYYY-MM-DD or date-time)"), ("to", "To"))
    field = "created_at"

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        for name, lookup, day_end in (("from", "gte", False), ("to", "lt", True)):
            raw = values.get(name)
            if raw is None:
                continue
            bound = instant_bound(raw, _UTC, day_end=day_end)
            if bound is None:
                # the API's 400, as a message: no rows rather than a silent "every row"
                message = f"{name.capitalize()}: {raw!r} is no date or date-time (UTC)."
                messages.error(self.request, message)
                return queryset.none()
            queryset = queryset.filter(**{f"{self.field}__{lookup}": bound})
        return queryset


class CompanyFilter(InputFilter):
    """`?tenant=`: one company's rows (a model with a `tenant` key), by its id or slug, typed
    in: no list of every company — a thousand of them, the template's included — in the
    sidebar."""

    title = "company"
    parameters = (("tenant", "Company id or slug"),)

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        value = values["tenant"]
        try:
            return queryset.filter(tenant_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(tenant__slug=value.lower())


class RequestIdFilter(InputFilter):
    """`?request_id=`: one request's rows (its X-Request-ID), exact."""

    title = "request id"
    parameters = (("request_id", "Request id"),)

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        return queryset.filter(request_id=values["request_id"])


# --- links between console pages ----------------------------------------------------------------
def _changelist_url(name: str, params: dict[str, object]) -> str:
    query = {key: str(value) for key, value in params.items() if value not in (None, "")}
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def audit_changelist_url(*, tenant: object = None, request_id: str | None = None) -> str:
    """The platform audit trail in the console, narrowed to a company (its id or slug) and/or
    one request."""
    return _changelist_url("audit_auditlog", {"tenant": tenant, "request_id": request_id})


def log_changelist_url(*, tenant: object = None, request_id: str | None = None) -> str:
    """The log store in the console, narrowed to a company (its id, slug or schema) and/or one
    request."""
    return _changelist_url("devtools_logentry", {"tenant": tenant, "request_id": request_id})


def company_change_url(tenant_id: object) -> str:
    """A company's page in the console."""
    return reverse("admin:tenants_tenant_change", args=[tenant_id])
