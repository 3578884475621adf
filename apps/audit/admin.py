from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import QuerySet
from django.utils.html import format_html

from apps.audit.models import AuditLog
from apps.core.admin import ReadOnlyAdmin
from apps.core.admin_lists import (
    CappedCountPaginator,
    CompanyFilter,
    InputFilter,
    PeriodFilter,
    RequestIdFilter,
    company_change_url,
    log_changelist_url,
)


class ActionFilter(InputFilter):
    """`?action_prefix=`: actions starting with it (`tenant.` lists every company action), as
    the API's actionPrefix (`?action=` is the exact action, by URL)."""

    title = "action"
    parameters = (("action_prefix", "Action or its start (package.)"),)

    def filter(self, queryset: QuerySet, values: dict[str, str]) -> QuerySet:
        return queryset.filter(action__startswith=values["action_prefix"])


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """The platform audit trail, read-only: it cannot be added to, changed or deleted from the
    console. The filters are the API's (/api/v1/audit/all): period, company, request, action;
    `?entity_type=&entity_id=` narrow to one entity by URL."""

    list_display = (
        "created_at",
        "company",
        "actor",
        "action",
        "entity_type",
        "entity_id",
        "request",
        "ip",
    )
    list_filter = (PeriodFilter, CompanyFilter, RequestIdFilter, ActionFilter)
    search_fields = ("action", "entity_type", "=entity_id", "actor__email", "=request_id")
    list_select_related = ("tenant", "actor")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    paginator = CappedCountPaginator
    show_full_result_count = False  # no COUNT(*) of the whole trail on every page
    show_facets = ShowFacets.NEVER  # facet counts would count the whole trail per filter

    @admin.display(description="company", ordering="tenant__name")
    def company(self, entry: AuditLog) -> str:
        if entry.tenant_id is None:
            return "platform"
        return format_html('<a href="{}">{}</a>', company_change_url(entry.tenant_id), entry.tenant)

    @admin.display(description="request id")
    def request(self, entry: AuditLog) -> str:
        if not entry.request_id:
            return "-"
        url = log_changelist_url(request_id=entry.request_id)
        return format_html('<a href="{}" title="Its log lines">{}</a>', url, entry.request_id)
