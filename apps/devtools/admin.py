from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin
from apps.core.admin_lists import (
    CappedCountPaginator,
    InputFilter,
    PeriodFilter,
    RequestIdFilter,
    audit_changelist_url,
    company_change_url,
)
from apps.devtools.models import LEVELS, LogEntry
from apps.devtools.selectors import tenant_schema_of
from apps.tenants.models import Tenant


class MinimumLevelFilter(admin.SimpleListFilter):
    """`?level=`: a minimum, as the API's (WARNING lists WARNING, ERROR and CRITICAL)."""

    title = "level (at least)"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(name, name) for name in LEVELS]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        level_no = LEVELS.get(value.strip().upper())
        return queryset.none() if level_no is None else queryset.filter(level_no__gte=level_no)


class LogPeriodFilter(PeriodFilter):
    field = "time"


class LogCompanyFilter(InputFilter):
    """`?tenant=`: one company's lines, by its id, slug or schema (typed in: no list of every
    company in the sidebar). An unknown company: no lines."""

    title = "company"
    parameters = (("tenant", "Company id, slug or schema"),)

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        schema = tenant_schema_of(tenant=values["tenant"])
        return queryset.none() if schema is None else queryset.filter(tenant=schema)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """The log store, read-only: the lines are written by the log store and removed by its
    retention only. The filters are the API's (/api/v1/super-admin/logs): level, period,
    company, request id, search (message or path; or a request id, exact)."""

    list_display = (
        "time",
        "level",
        "logger",
        "status",
        "method",
        "path",
        "company",
        "request",
    )
    list_filter = (MinimumLevelFilter, LogPeriodFilter, LogCompanyFilter, RequestIdFilter)
    search_fields = ("message", "path", "=request_id")
    date_hierarchy = "time"
    ordering = ("-time", "-id")
    paginator = CappedCountPaginator
    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    show_facets = ShowFacets.NEVER

    def get_queryset(self, request) -> QuerySet:
        # the line keeps its company's schema name (no foreign key): the company's id for the
        # link comes in the same query (unique schema_name index), not one query per row
        company = Tenant.objects.filter(schema_name=OuterRef("tenant"))
        return super().get_queryset(request).annotate(company_id=Subquery(company.values("pk")[:1]))

    @admin.display(description="company", ordering="tenant")
    def company(self, entry: LogEntry) -> str:
        if not entry.tenant:
            return "-"
        company_id = getattr(entry, "company_id", None)
        if company_id is None:
            return entry.tenant  # a company deleted since
        return format_html('<a href="{}">{}</a>', company_change_url(company_id), entry.tenant)

    @admin.display(description="request id")
    def request(self, entry: LogEntry) -> str:
        if not entry.request_id:
            return "-"
        url = audit_changelist_url(request_id=entry.request_id)
        return format_html('<a href="{}" title="Its audit rows">{}</a>', url, entry.request_id)
