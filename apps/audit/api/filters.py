import django_filters

from apps.audit.models import AuditLog


class AuditFilter(django_filters.FilterSet):
    actor_id = django_filters.UUIDFilter()
    action = django_filters.CharFilter()
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    entity_type = django_filters.CharFilter()
    entity_id = django_filters.CharFilter()
    # `from`/`to` are Python keywords: declared under other names, renamed in the FilterSet.
    created_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["actor_id", "action", "entity_type", "entity_id"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for public, internal in (("from", "created_from"), ("to", "created_to")):
                if public in data:
                    data[internal] = data.pop(public)[-1]
        self.public_names = {"created_from": "from", "created_to": "to"}  # for error details
        super().__init__(data, *args, **kwargs)


class PlatformAuditFilter(AuditFilter):
    tenant_id = django_filters.UUIDFilter()

    class Meta(AuditFilter.Meta):
        fields = [*AuditFilter.Meta.fields, "tenant_id"]
