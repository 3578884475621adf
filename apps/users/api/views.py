from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.roles import AUTHENTICATED
from apps.users import selectors, services
from apps.users.api.filters import StaffFilter
from apps.users.api.serializers import (
    MessageSerializer,
    PasswordResetInputSerializer,
    PinSetInputSerializer,
    ProfileUpdateInputSerializer,
    StaffCreateInputSerializer,
    StaffSerializer,
    StaffUpdateInputSerializer,
    UserSerializer,
)


@extend_schema(tags=["users"])
class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The company's staff (ADMIN/MANAGER). Managers cannot manage admins."""

    required_permission = "ADMIN/MANAGER"
    serializer_class = StaffSerializer
    filterset_class = StaffFilter
    search_fields = ["name", "email", "phone"]
    ordering_fields = ["name", "email", "role", "created_at", "last_login"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return selectors.platform_user_list().none()
        return selectors.staff_list(tenant=self.request.user.tenant)

    def get_object(self):
        return selectors.staff_get(tenant=self.request.user.tenant, user_id=self.kwargs["pk"])

    def _render(self, user, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.staff_get(tenant=self.request.user.tenant, user_id=user.pk)
        return Response(StaffSerializer(fresh).data, status=status_code)

    @extend_schema(request=StaffCreateInputSerializer, responses={201: StaffSerializer})
    def create(self, request):
        data = StaffCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.staff_create(
            actor=request.user, tenant=request.user.tenant, **data.validated_data
        )
        return self._render(user, status.HTTP_201_CREATED)

    @extend_schema(request=StaffUpdateInputSerializer, responses={200: StaffSerializer})
    def partial_update(self, request, pk=None):
        user = self.get_object()  # 404 before 400
        data = StaffUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.staff_update(actor=request.user, user_id=user.pk, **data.validated_data)
        return self._render(user)

    @extend_schema(request=None, responses={200: StaffSerializer})
    def destroy(self, request, pk=None):
        user = services.staff_deactivate(actor=request.user, user_id=self.get_object().pk)
        return self._render(user)

    @extend_schema(request=None, responses={200: StaffSerializer})
    @action(detail=True, methods=["patch"])
    def restore(self, request, pk=None):
        user = services.staff_restore(actor=request.user, user_id=self.get_object().pk)
        return self._render(user)

    @extend_schema(request=PasswordResetInputSerializer, responses={200: StaffSerializer})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        user = self.get_object()
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.password_reset(actor=request.user, user_id=user.pk, **data.validated_data)
        return self._render(user)


class ProfileView(APIView):
    """PATCH /users/me: the caller's own name, phone and avatar."""

    required_permission = AUTHENTICATED

    @extend_schema(
        request=ProfileUpdateInputSerializer, responses={200: UserSerializer}, tags=["users"]
    )
    def patch(self, request):
        data = ProfileUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.profile_update(actor=request.user, **data.validated_data)
        return Response(UserSerializer(user).data)


class PinView(APIView):
    """PUT /users/me/pin: the caller's approval PIN (a manager approving a discount beyond a
    cashier's limit at the till, apps.sales.approval). Company staff only."""

    required_permission = "ADMIN/MANAGER/CASHIER"

    @extend_schema(
        request=PinSetInputSerializer,
        responses={200: MessageSerializer},
        tags=["users"],
        description="Needs the current password (400 when wrong, as for a password change).",
    )
    def put(self, request):
        data = PinSetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.pin_set(user=request.user, **data.validated_data)
        return Response({"message": "PIN set."})
