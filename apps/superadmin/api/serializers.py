from __future__ import annotations

from rest_framework import serializers

from apps.core.money import money_total_serializer_field
from apps.users.api.serializers import TenantSummarySerializer
from apps.users.models import User
from apps.users.services import BULK_ACTIONS


class PlatformUserSerializer(serializers.ModelSerializer):
    tenant = TenantSummarySerializer(allow_null=True)
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "phone",
            "role",
            "tenant",
            "is_active",
            "deleted",
            "deleted_at",
            "last_login",
            "created_at",
            "updated_at",
        ]

    def get_deleted(self, user: User) -> bool:
        return user.deleted_at is not None


class SuperAdminCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150)


class BulkUserActionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    user_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)


class BulkErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    success = serializers.BooleanField()
    error = BulkErrorSerializer(allow_null=True)


class BulkUserActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class HardDeleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["deleted", "anonymised"])


class CountsByStatusSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    suspended = serializers.IntegerField()


class CountsByRoleSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    super_admin = serializers.IntegerField()
    admin = serializers.IntegerField()
    manager = serializers.IntegerField()
    cashier = serializers.IntegerField()


class CurrencyVolumeSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    volume = money_total_serializer_field()


class SalesVolumeSerializer(serializers.Serializer):
    """Every checkout on the platform (voided ones included, returns not subtracted): `volume`
    adds every currency's total; `byCurrency` splits it."""

    count = serializers.IntegerField()
    volume = money_total_serializer_field()
    by_currency = CurrencyVolumeSerializer(many=True)


class PlatformStatsSerializer(serializers.Serializer):
    tenants = CountsByStatusSerializer()
    users = CountsByRoleSerializer()
    sales = SalesVolumeSerializer()
