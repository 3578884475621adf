from __future__ import annotations

from rest_framework import serializers

from apps.tenants.models import Tenant
from apps.users.api.serializers import UserSerializer


class TenantSerializer(serializers.ModelSerializer):
    domain = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "status", "domain", "created_at", "updated_at"]

    def get_domain(self, tenant: Tenant) -> str | None:
        primary = [d.domain for d in tenant.domains.all() if d.is_primary]
        return primary[0] if primary else None


class TenantCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=50)
    owner_email = serializers.EmailField(max_length=254)
    owner_password = serializers.CharField(max_length=128, trim_whitespace=False)
    owner_name = serializers.CharField(max_length=150)


class TenantCreatedSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    owner = UserSerializer()
