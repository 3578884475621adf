from __future__ import annotations

from rest_framework import serializers

from apps.users.models import User
from apps.users.selectors import user_permissions


class TenantSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    tenant = TenantSummarySerializer(allow_null=True)
    permissions = serializers.SerializerMethodField()

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
            "last_login",
            "created_at",
            "permissions",
        ]

    def get_permissions(self, user: User) -> list[str]:
        return user_permissions(user=user)


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=2048)


class ChangePasswordInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class SessionSerializer(TokenPairSerializer):
    user = UserSerializer()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
