from rest_framework import serializers

from apps.audit.models import AuditLog


class AuditActorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class AuditLogSerializer(serializers.ModelSerializer):
    actor = AuditActorSerializer(allow_null=True)
    tenant_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "tenant_id",
            "actor",
            "action",
            "entity_type",
            "entity_id",
            "before",
            "after",
            "ip",
            "user_agent",
            "request_id",
            "created_at",
        ]
