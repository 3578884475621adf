from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import AuditLog


def audit_list(*, tenant=None) -> QuerySet[AuditLog]:
    """A company's trail (`tenant`), or the platform's (None)."""
    queryset = AuditLog.objects.select_related("actor")  # rows show tenant_id only
    return queryset.filter(tenant=tenant) if tenant is not None else queryset
