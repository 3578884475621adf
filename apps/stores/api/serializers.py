from __future__ import annotations

from rest_framework import serializers

from apps.stores.models import Store, StoreKind


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "address",
            "phone",
            "email",
            "timezone",
            "receipt_header",
            "created_at",
            "updated_at",
        ]


class StoreInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    code = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=StoreKind.choices, default=StoreKind.RETAIL)
    address = serializers.CharField(max_length=300, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    email = serializers.EmailField(allow_blank=True, required=False)
    timezone = serializers.CharField(max_length=64, allow_blank=True, required=False)
    receipt_header = serializers.CharField(max_length=1000, allow_blank=True, required=False)
