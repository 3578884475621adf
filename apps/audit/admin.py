from django.contrib import admin

from apps.audit.models import AuditLog
from apps.core.admin import ReadOnlyAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: the trail cannot be added to, changed or deleted from the console."""

    list_display = ("created_at", "tenant", "actor", "action", "entity_type", "entity_id", "ip")
    list_filter = ("action", "entity_type", "tenant")
    search_fields = ("action", "entity_type", "entity_id", "actor__email", "request_id")
    list_select_related = ("tenant", "actor")
    date_hierarchy = "created_at"
