from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.filters import query_flag
from apps.superadmin.api.serializers import (
    BulkUserActionInputSerializer,
    BulkUserActionSerializer,
    HardDeleteSerializer,
    PlatformStatsSerializer,
    PlatformUserSerializer,
    SuperAdminCreateInputSerializer,
)
from apps.superadmin.selectors import platform_stats
from apps.tenants import selectors as tenant_selectors
from apps.tenants import services as tenant_services
from apps.tenants.api.serializers import (
    PackageInputSerializer,
    PackageSerializer,
    PackageUpdateInputSerializer,
    TenantAdminUpdateInputSerializer,
    TenantCreatedSerializer,
    TenantCreateInputSerializer,
    TenantDetailSerializer,
    TenantSerializer,
)
from apps.users import selectors as user_selectors
from apps.users import services as user_services
from apps.users.api.filters import PlatformUserFilter
from apps.users.api.serializers import PasswordResetInputSerializer

SUPER_ADMIN = "SUPER_ADMIN"


@extend_schema(tags=["super-admin"])
class TenantAdminViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Companies of the platform."""

    required_permission = SUPER_ADMIN
    serializer_class = TenantSerializer
    filterset_fields = ["status"]
    search_fields = ["name", "slug", "legal_name"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return tenant_selectors.tenant_list()

    def get_object(self):
        return tenant_selectors.tenant_get(tenant_id=self.kwargs["pk"])

    def _render(self, tenant) -> Response:
        fresh = tenant_selectors.tenant_get(tenant_id=tenant.pk)
        return Response(TenantDetailSerializer(fresh).data)

    @extend_schema(request=TenantCreateInputSerializer, responses={201: TenantCreatedSerializer})
    def create(self, request):
        data = TenantCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = tenant_services.tenant_create(**data.validated_data, actor=request.user)
        tenant = tenant_selectors.tenant_get(tenant_id=created.tenant.pk)
        return Response(
            TenantCreatedSerializer({"tenant": tenant, "owner": created.owner}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: TenantDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(TenantDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=TenantAdminUpdateInputSerializer, responses={200: TenantDetailSerializer}
    )
    def partial_update(self, request, pk=None):
        data = TenantAdminUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = tenant_services.tenant_profile_update(
            actor=request.user, tenant_id=self.get_object().pk, **data.validated_data
        )
        return self._render(tenant)

    @extend_schema(request=None, responses={200: TenantDetailSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._render(
            tenant_services.tenant_suspend(actor=request.user, tenant=self.get_object())
        )

    @extend_schema(request=None, responses={200: TenantDetailSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._render(
            tenant_services.tenant_restore(actor=request.user, tenant=self.get_object())
        )


@extend_schema(tags=["super-admin"])
class PackageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Subscription packages: limits, features and request rate of the companies on them."""

    required_permission = SUPER_ADMIN
    serializer_class = PackageSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "price", "created_at"]
    ordering = ["price", "name"]

    def get_queryset(self):
        return tenant_selectors.package_list()

    def _render(self, package_id, status_code=status.HTTP_200_OK) -> Response:
        package = tenant_selectors.package_get(package_id=package_id)
        return Response(PackageSerializer(package).data, status=status_code)

    @extend_schema(request=PackageInputSerializer, responses={201: PackageSerializer})
    def create(self, request):
        data = PackageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        package = tenant_services.package_create(actor=request.user, **data.validated_data)
        return self._render(package.pk, status.HTTP_201_CREATED)

    @extend_schema(responses={200: PackageSerializer})
    def retrieve(self, request, pk=None):
        return self._render(tenant_selectors.package_get(package_id=pk).pk)

    @extend_schema(request=PackageUpdateInputSerializer, responses={200: PackageSerializer})
    def partial_update(self, request, pk=None):
        data = PackageUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        package = tenant_selectors.package_get(package_id=pk)
        tenant_services.package_update(
            actor=request.user, package_id=package.pk, **data.validated_data
        )
        return self._render(package.pk)

    @extend_schema(request=None, responses={200: PackageSerializer})
    def destroy(self, request, pk=None):
        package = tenant_selectors.package_get(package_id=pk)  # rendered as it was
        tenant_services.package_delete(actor=request.user, package_id=package.pk)
        return Response(PackageSerializer(package).data)


@extend_schema(tags=["super-admin"])
class SuperAdminViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Platform operators."""

    required_permission = SUPER_ADMIN
    serializer_class = PlatformUserSerializer
    search_fields = ["name", "email"]
    ordering_fields = ["name", "email", "created_at"]
    ordering = ["email"]

    def get_queryset(self):
        return user_selectors.super_admin_list().select_related("tenant")

    @extend_schema(request=SuperAdminCreateInputSerializer, responses={201: PlatformUserSerializer})
    def create(self, request):
        data = SuperAdminCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_services.super_admin_create(actor=request.user, **data.validated_data)
        return Response(PlatformUserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["super-admin"])
class PlatformUserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every user of every company."""

    required_permission = SUPER_ADMIN
    serializer_class = PlatformUserSerializer
    filterset_class = PlatformUserFilter
    search_fields = ["name", "email", "phone", "tenant__name", "tenant__slug"]
    ordering_fields = ["name", "email", "role", "created_at", "last_login"]
    ordering = ["email"]
    lookup_url_kwarg = "user_id"

    def get_queryset(self):
        return user_selectors.platform_user_list()

    def get_object(self):
        return user_selectors.platform_user_get(user_id=self.kwargs["user_id"])

    def _render(self, user) -> Response:
        return Response(PlatformUserSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: PlatformUserSerializer})
    def destroy(self, request, user_id=None):
        user_services.user_soft_delete(actor=request.user, user_id=self.get_object().pk)
        return self._render(None)

    @extend_schema(request=None, responses={200: PlatformUserSerializer})
    @action(detail=True, methods=["patch"])
    def restore(self, request, user_id=None):
        user_services.user_undelete(actor=request.user, user_id=self.get_object().pk)
        return self._render(None)

    @extend_schema(
        request=None,
        responses={200: HardDeleteSerializer},
        parameters=[
            OpenApiParameter(
                "anonymise",
                OpenApiTypes.BOOL,
                description="For a user with history: strip personal data instead of refusing.",
            )
        ],
    )
    @action(detail=True, methods=["delete"])
    def hard(self, request, user_id=None):
        anonymise = query_flag(request, "anonymise")
        outcome = user_services.user_hard_delete(
            actor=request.user, user_id=self.get_object().pk, anonymise=anonymise
        )
        return Response(HardDeleteSerializer(outcome).data)

    @extend_schema(request=PasswordResetInputSerializer, responses={200: PlatformUserSerializer})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, user_id=None):
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_services.password_reset(
            actor=request.user, user_id=self.get_object().pk, **data.validated_data
        )
        return self._render(None)

    @extend_schema(request=BulkUserActionInputSerializer, responses={200: BulkUserActionSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = BulkUserActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = user_services.users_bulk_action(actor=request.user, **data.validated_data)
        succeeded = sum(1 for result in results if result["success"])
        return Response(
            BulkUserActionSerializer(
                {
                    "action": data.validated_data["action"],
                    "succeeded": succeeded,
                    "failed": len(results) - succeeded,
                    "results": results,
                }
            ).data
        )


class PlatformStatsView(APIView):
    required_permission = SUPER_ADMIN

    @extend_schema(responses={200: PlatformStatsSerializer}, tags=["super-admin"])
    def get(self, request):
        return Response(PlatformStatsSerializer(platform_stats()).data)
