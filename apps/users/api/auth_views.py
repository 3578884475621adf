from __future__ import annotations

from django.conf import settings as django_settings
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.context import current
from apps.core.roles import AUTHENTICATED, PUBLIC
from apps.users import services
from apps.users.api.serializers import (
    ChangePasswordInputSerializer,
    ForgotPasswordInputSerializer,
    LoginInputSerializer,
    MessageSerializer,
    RefreshInputSerializer,
    ResetPasswordInputSerializer,
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
        session = services.password_change(
            user=request.user, **data.validated_data, ip=current().ip
        )
        return Response(
            {"access_token": session.tokens.access, "refresh_token": session.tokens.refresh}
        )


RECOVERY_SENT = (
    "If an account uses this address, a link to reset its password is on its way. It works"
    " once, within {minutes} minutes."
)


class ForgotPasswordView(APIView):
    """Always 200 with the same body, whether or not an account has the address (the e-mail
    is sent after the response); 429 past the per-IP or per-address limit."""

    authentication_classes: list = []
    required_permission = PUBLIC

    @extend_schema(
        request=ForgotPasswordInputSerializer, responses={200: MessageSerializer}, tags=["auth"]
    )
    def post(self, request):
        data = ForgotPasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_recovery_request(email=data.validated_data["email"], ip=current().ip)
        minutes = django_settings.PASSWORD_RESET_TOKEN_MINUTES
        return Response({"message": RECOVERY_SENT.format(minutes=minutes)})


class ResetPasswordView(APIView):
    """Sets a new password with an e-mailed token; every session and access token ends."""

    authentication_classes: list = []
    required_permission = PUBLIC

    @extend_schema(
        request=ResetPasswordInputSerializer, responses={200: MessageSerializer}, tags=["auth"]
    )
    def post(self, request):
        data = ResetPasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_recovery_complete(**data.validated_data)
        return Response({"message": "Password changed. Sign in with the new password."})
