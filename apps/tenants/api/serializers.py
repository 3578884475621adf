from __future__ import annotations

from rest_framework import serializers

from apps.tenants.models import Tenant, TenantSettings
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


PROFILE_FIELDS = ["legal_name", "tax_id", "address", "email", "phone", "website", "logo_url"]


class TenantProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "status", *PROFILE_FIELDS, "created_at", "updated_at"]


class TenantDetailSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        fields = [*TenantSerializer.Meta.fields, *PROFILE_FIELDS]


class TenantProfileInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    legal_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    tax_id = serializers.CharField(max_length=64, allow_blank=True, required=False)
    address = serializers.CharField(max_length=300, allow_blank=True, required=False)
    email = serializers.EmailField(allow_blank=True, required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    website = serializers.URLField(max_length=300, allow_blank=True, required=False)
    logo_url = serializers.URLField(max_length=500, allow_blank=True, required=False)


class TenantSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = TenantSettings
        exclude = ["id", "tenant"]


class TenantSettingsInputSerializer(serializers.ModelSerializer):
    """Types and lengths; the business ranges (ISO currency, IANA zone…) are the service's."""

    class Meta:
        model = TenantSettings
        exclude = ["id", "tenant", "updated_at"]
        extra_kwargs = {name: {"required": False} for name in ("currency", "timezone")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class PeriodSerializer(serializers.Serializer):
    sales_count = serializers.IntegerField()
    sales_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    average_sale = serializers.DecimalField(max_digits=14, decimal_places=2)


class TenantDashboardSerializer(serializers.Serializer):
    today = PeriodSerializer()
    month = PeriodSerializer()
    stores = serializers.IntegerField()
    warehouses = serializers.IntegerField()
    active_users = serializers.IntegerField()
    products = serializers.IntegerField()
    customers = serializers.IntegerField()
    stock_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    low_stock_count = serializers.IntegerField()
    open_transfers = serializers.IntegerField()
    customer_dues = serializers.DecimalField(max_digits=16, decimal_places=2)
