from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics

from apps.audit.api.filters import AuditFilter, PlatformAuditFilter
from apps.audit.api.serializers import AuditLogSerializer
from apps.audit.selectors import audit_list
from apps.core.filters import PERIOD, company_time_zone, period_filter


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
        tenant = self.request.user.tenant
        return period_filter(
            self.request, audit_list(tenant=tenant), time_zone=company_time_zone(tenant)
        )


@extend_schema(tags=["audit"], parameters=PERIOD)
class PlatformAuditListView(TenantAuditListView):
    """Every company's audit trail and the platform's own (SUPER_ADMIN)."""

    required_permission = "SUPER_ADMIN"
    filterset_class = PlatformAuditFilter

    def get_queryset(self):
        return period_filter(self.request, audit_list())  # the platform's days: UTC
