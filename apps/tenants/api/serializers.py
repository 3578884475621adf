from __future__ import annotations

from rest_framework import serializers

from apps.core.money import money_serializer_field
from apps.tenants.models import BillingPeriod, Package, PlanFeature, Tenant, TenantSettings
from apps.users.api.serializers import UserSerializer

LIMIT_FIELDS = ["max_stores", "max_warehouses", "max_users", "max_products", "max_sales_per_month"]


class PackageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Package
        fields = ["id", "name"]


class PackageSerializer(serializers.ModelSerializer):
    tenant_count = serializers.IntegerField(read_only=True)  # companies on the plan
    features = serializers.ListField(child=serializers.ChoiceField(choices=PlanFeature.choices))

    class Meta:
        model = Package
        fields = [
            "id",
            "name",
            "description",
            "price",
            "currency",
            "billing_period",
            *LIMIT_FIELDS,
            "features",
            "requests_per_minute",
            "tenant_count",
            "created_at",
            "updated_at",
        ]


# a plan limit: a PostgreSQL integer column (a larger number was a 500 from the database)
LIMIT_MAX = 2_147_483_647


def _limit() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0, max_value=LIMIT_MAX, allow_null=True, required=False
    )


class PackageInputSerializer(serializers.Serializer):
    """Types and lengths; uniqueness, currencies and feature names are the service's."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    price = money_serializer_field(required=False)
    currency = serializers.CharField(max_length=3, required=False)
    billing_period = serializers.ChoiceField(choices=BillingPeriod.choices, required=False)
    max_stores = _limit()
    max_warehouses = _limit()
    max_users = _limit()
    max_products = _limit()
    max_sales_per_month = _limit()
    features = serializers.ListField(
        child=serializers.ChoiceField(choices=PlanFeature.choices), max_length=20, required=False
    )
    requests_per_minute = serializers.IntegerField(
        min_value=1, max_value=1_000_000, allow_null=True, required=False
    )


class PackageUpdateInputSerializer(PackageInputSerializer):
    name = serializers.CharField(max_length=100, required=False)


class TenantSerializer(serializers.ModelSerializer):
    domain = serializers.SerializerMethodField()
    package = PackageSummarySerializer(allow_null=True)

    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "status", "domain", "package", "created_at", "updated_at"]

    def get_domain(self, tenant: Tenant) -> str | None:
        primary = [d.domain for d in tenant.domains.all() if d.is_primary]
        return primary[0] if primary else None


class TenantCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=50)
    owner_email = serializers.EmailField(max_length=254)
    owner_password = serializers.CharField(max_length=128, trim_whitespace=False)
    owner_name = serializers.CharField(max_length=150)
    package_id = serializers.UUIDField(allow_null=True, required=False)


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


class TenantAdminUpdateInputSerializer(TenantProfileInputSerializer):
    """What the platform may change of a company: its profile and its plan (null: no plan)."""

    package_id = serializers.UUIDField(allow_null=True, required=False)


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

    # with documents in the company's currency, changing it must be meant (they keep theirs)
    force_currency_change = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class PlanLimitsSerializer(serializers.Serializer):
    stores = serializers.IntegerField(allow_null=True)
    warehouses = serializers.IntegerField(allow_null=True)
    users = serializers.IntegerField(allow_null=True)
    products = serializers.IntegerField(allow_null=True)
    sales_per_month = serializers.IntegerField(allow_null=True)


class PlanUsageSerializer(serializers.Serializer):
    stores = serializers.IntegerField()
    warehouses = serializers.IntegerField()
    users = serializers.IntegerField()
    products = serializers.IntegerField()
    sales_per_month = serializers.IntegerField()


class SubscriptionPackageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Package
        fields = ["id", "name", "description", "price", "currency", "billing_period"]


class SubscriptionSerializer(serializers.Serializer):
    package = SubscriptionPackageSerializer(allow_null=True)
    limits = PlanLimitsSerializer()
    usage = PlanUsageSerializer()
    features = serializers.ListField(child=serializers.CharField())
    requests_per_minute = serializers.IntegerField(allow_null=True)
