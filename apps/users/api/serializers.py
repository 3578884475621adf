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
            "avatar_url",
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


class ForgotPasswordInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class SessionSerializer(TokenPairSerializer):
    user = UserSerializer()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class StaffSerializer(serializers.ModelSerializer):
    store_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "phone",
            "avatar_url",
            "role",
            "is_active",
            "store_ids",
            "last_login",
            "created_at",
            "updated_at",
        ]


STAFF_ROLE_CHOICES = ["ADMIN", "MANAGER", "CASHIER"]


class StaffCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    role = serializers.ChoiceField(choices=STAFF_ROLE_CHOICES)
    store_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200)


class StaffUpdateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    name = serializers.CharField(max_length=150, required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    avatar_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    role = serializers.ChoiceField(choices=STAFF_ROLE_CHOICES, required=False)
    store_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200)


class ProfileUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    avatar_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text="Needs `currentPassword`; every session of the user ends (sign in again).",
    )
    current_password = serializers.CharField(
        max_length=128, trim_whitespace=False, required=False, write_only=True
    )


class PinSetInputSerializer(serializers.Serializer):
    pin = serializers.CharField(
        max_length=32, trim_whitespace=False,
        help_text="4 to 8 digits; not one digit repeated nor a run such as 1234",
    )  # fmt: skip
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetInputSerializer(serializers.Serializer):
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)
