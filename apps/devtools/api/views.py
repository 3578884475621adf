from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from apps.core.errors import ValidationFailed
from apps.core.filters import period_bounds
from apps.devtools.api.serializers import LogEntrySerializer
from apps.devtools.models import LEVELS
from apps.devtools.selectors import log_entry_list, tenant_schema_of

_DATE_OR_DATE_TIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


def _text_param(request, name: str) -> str | None:
    """A free-text filter; absent or blank: None. (A NUL character never gets here: the request
    middleware refuses it, apps.core.middleware.nul_refusal.)"""
    value = request.query_params.get(name)
    return None if value is None else value.strip() or None


@extend_schema(
    tags=["super-admin"],
    parameters=[
        OpenApiParameter(
            "level",
            str,
            enum=list(LEVELS),
            description="Minimum level: WARNING lists WARNING, ERROR and CRITICAL lines",
        ),
        OpenApiParameter(
            "from",
            _DATE_OR_DATE_TIME,
            description="From this date-time (inclusive) or the start of this date, UTC",
        ),
        OpenApiParameter(
            "to",
            _DATE_OR_DATE_TIME,
            description="Up to this date-time (exclusive) or the end of this date, UTC",
        ),
        OpenApiParameter("search", str, description="Part of the message or the path, any case"),
        OpenApiParameter("requestId", str, description="One request's lines (its X-Request-ID)"),
        OpenApiParameter("tenant", str, description="One company's lines: its id or slug"),
    ],
)
class LogEntryListView(generics.ListAPIView):
    """The dev-tools log viewer: stored request lines and errors, newest first (SUPER_ADMIN)."""

    required_permission = "SUPER_ADMIN"
    serializer_class = LogEntrySerializer
    filter_backends: list = []  # the filters are parsed below

    def get_queryset(self):
        request = self.request
        level = request.query_params.get("level")
        min_level = None
        if level is not None:
            min_level = LEVELS.get(level.strip().upper())
            if min_level is None:
                raise ValidationFailed.for_field("level", f"Must be one of {', '.join(LEVELS)}.")
        start, end = period_bounds(request)  # the platform's days: UTC
        tenant = _text_param(request, "tenant")
        tenant_schema = tenant_schema_of(tenant=tenant) if tenant is not None else None
        rows = log_entry_list(
            min_level=min_level,
            start=start,
            end=end,
            search=_text_param(request, "search"),
            request_id=_text_param(request, "request_id"),
            tenant_schema=tenant_schema,
        )
        return rows.none() if tenant is not None and tenant_schema is None else rows
