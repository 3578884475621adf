from __future__ import annotations

from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from apps.audit.api.filters import AuditFilter, PlatformAuditFilter
from apps.audit.api.serializers import AuditLogSerializer
from apps.audit.selectors import audit_list
from apps.core.errors import ValidationFailed


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


@extend_schema(tags=["audit"], parameters=PERIOD)
class TenantAuditListView(generics.ListAPIView):
    """The company's audit trail, newest first."""

    required_permission = "report:read"
    serializer_class = AuditLogSerializer
    filterset_class = AuditFilter
    ordering_fields = ["created_at", "action"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return audit_list().none()
        return period_filter(self.request, audit_list(tenant=self.request.user.tenant))


@extend_schema(tags=["audit"], parameters=PERIOD)
class PlatformAuditListView(TenantAuditListView):
    """Every company's audit trail and the platform's own (SUPER_ADMIN)."""

    required_permission = "SUPER_ADMIN"
    filterset_class = PlatformAuditFilter

    def get_queryset(self):
        return period_filter(self.request, audit_list())
