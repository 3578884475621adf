from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenants import selectors, services
from apps.tenants.api.serializers import (
    SubscriptionSerializer,
    TenantProfileInputSerializer,
    TenantProfileSerializer,
    TenantSettingsInputSerializer,
    TenantSettingsSerializer,
)


@extend_schema(tags=["tenants"])
class TenantProfileView(APIView):
    required_permission = "tenant:manage"

    @extend_schema(responses={200: TenantProfileSerializer})
    def get(self, request):
        return Response(TenantProfileSerializer(request.user.tenant).data)

    @extend_schema(request=TenantProfileInputSerializer, responses={200: TenantProfileSerializer})
    def patch(self, request):
        data = TenantProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_profile_update(
            actor=request.user, tenant_id=request.user.tenant_id, **data.validated_data
        )
        return Response(TenantProfileSerializer(tenant).data)


@extend_schema(tags=["tenants"])
class TenantSettingsView(APIView):
    required_permission = "tenant:manage"

    @extend_schema(responses={200: TenantSettingsSerializer})
    def get(self, request):
        settings = services.tenant_settings_get(tenant=request.user.tenant)
        return Response(TenantSettingsSerializer(settings).data)

    @extend_schema(request=TenantSettingsInputSerializer, responses={200: TenantSettingsSerializer})
    def patch(self, request):
        data = TenantSettingsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        settings = services.tenant_settings_update(
            actor=request.user, tenant=request.user.tenant, **data.validated_data
        )
        return Response(TenantSettingsSerializer(settings).data)


@extend_schema(tags=["tenants"])
class TenantSubscriptionView(APIView):
    """The company's plan, its limits and what the company uses of each."""

    required_permission = "ADMIN/MANAGER"

    @extend_schema(responses={200: SubscriptionSerializer})
    def get(self, request):
        return Response(
            SubscriptionSerializer(selectors.subscription_get(tenant=request.user.tenant)).data
        )
