from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.tenants import selectors, services
from apps.tenants.api.serializers import (
    TenantCreatedSerializer,
    TenantCreateInputSerializer,
    TenantSerializer,
)


@extend_schema(tags=["super-admin"])
class SuperAdminTenantViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Companies of the platform (SUPER_ADMIN)."""

    required_permission = "SUPER_ADMIN"
    serializer_class = TenantSerializer
    filterset_fields = ["status"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.tenant_list()

    @extend_schema(request=TenantCreateInputSerializer, responses={201: TenantCreatedSerializer})
    def create(self, request):
        data = TenantCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.tenant_create(**data.validated_data, actor=request.user)
        # re-read with its domain prefetched for the response
        tenant = selectors.tenant_list().get(pk=created.tenant.pk)
        return Response(
            TenantCreatedSerializer({"tenant": tenant, "owner": created.owner}).data,
            status=status.HTTP_201_CREATED,
        )
