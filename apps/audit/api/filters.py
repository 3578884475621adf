import django_filters

from apps.audit.models import AuditLog


class AuditFilter(django_filters.FilterSet):
    """actor, action, entity filters. The `from`/`to` period (Python keywords) is applied by the
    view (see `period_filter`)."""

    actor_id = django_filters.UUIDFilter()
    action = django_filters.CharFilter()
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    entity_type = django_filters.CharFilter()
    entity_id = django_filters.CharFilter()

    class Meta:
        model = AuditLog
        fields = ["actor_id", "action", "entity_type", "entity_id"]


class PlatformAuditFilter(AuditFilter):
    tenant_id = django_filters.UUIDFilter()

    class Meta(AuditFilter.Meta):
        fields = [*AuditFilter.Meta.fields, "tenant_id"]
