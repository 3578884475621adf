from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.context import current
from apps.core.roles import AUTHENTICATED, PUBLIC
from apps.users import services
from apps.users.api.serializers import (
    ChangePasswordInputSerializer,
    LoginInputSerializer,
    MessageSerializer,
    RefreshInputSerializer,
    SessionSerializer,
    TokenPairSerializer,
    UserSerializer,
)


def session_payload(session: services.Session) -> dict:
    return {
        "access_token": session.tokens.access,
        "refresh_token": session.tokens.refresh,
        "user": UserSerializer(session.user).data,
    }


class LoginView(APIView):
    authentication_classes: list = []
    required_permission = PUBLIC

    @extend_schema(request=LoginInputSerializer, responses={200: SessionSerializer}, tags=["auth"])
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_login(**data.validated_data, ip=current().ip)
        return Response(session_payload(session))


class RefreshView(APIView):
    authentication_classes: list = []
    required_permission = PUBLIC

    @extend_schema(
        request=RefreshInputSerializer, responses={200: SessionSerializer}, tags=["auth"]
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_refresh(refresh_token=data.validated_data["refresh_token"])
        return Response(session_payload(session))


class LogoutView(APIView):
    required_permission = AUTHENTICATED

    @extend_schema(
        request=RefreshInputSerializer, responses={200: MessageSerializer}, tags=["auth"]
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_logout(
            user=request.user, refresh_token=data.validated_data["refresh_token"]
        )
        return Response({"message": "Signed out."})


class LogoutAllView(APIView):
    required_permission = AUTHENTICATED

    @extend_schema(request=None, responses={200: MessageSerializer}, tags=["auth"])
    def post(self, request):
        services.session_logout_all(user=request.user)
        return Response({"message": "All sessions revoked."})


class MeView(APIView):
    required_permission = AUTHENTICATED

    @extend_schema(responses={200: UserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class ChangePasswordView(APIView):
    required_permission = AUTHENTICATED

    @extend_schema(
        request=ChangePasswordInputSerializer, responses={200: TokenPairSerializer}, tags=["auth"]
    )
    def patch(self, request):
        data = ChangePasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.password_change(user=request.user, **data.validated_data)
        return Response(
            {"access_token": session.tokens.access, "refresh_token": session.tokens.refresh}
        )
