from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.core.errors import ErrorCode, PermissionDenied
from apps.core.roles import Role
from apps.users.cache import cached_auth_user
from apps.users.models import User
from apps.users.selectors import auth_user_get


class TenantJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication plus the tenant checks: the token's tenant, the user's
    tenant and the routed schema must agree, and the token version must be current. A platform
    operator's token is accepted in a company's schema only through operator access."""

    def get_raw_token(self, header: bytes) -> bytes | None:
        # RFC 7235: the scheme is case-insensitive ("bearer", "BEARER"); simplejwt compares it
        # exactly. Same forms as apps.core.middleware.bearer_token, which routes the request.
        parts = header.split()
        if parts and parts[0].lower() == b"bearer":
            header = b" ".join([b"Bearer", *parts[1:]])
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        # TenantRoutingMiddleware already verified this token; don't decode it twice.
        request_token = getattr(self, "_middleware_token", None)
        raw = raw_token.decode() if isinstance(raw_token, bytes) else raw_token
        if request_token is not None and request_token[0] == raw:
            return request_token[1]
        return super().get_validated_token(raw_token)

    def authenticate(self, request):
        self._middleware_token = getattr(request._request, "verified_access_token", None)
        self._operator_access = getattr(request._request, "operator_access", None)
        return super().authenticate(request)

    def get_user(self, validated_token) -> User:
        if getattr(self, "_operator_access", None) is not None:
            return self._operator_user(validated_token, self._operator_access)
        user_id = validated_token.get("sub")
        # the company's settings come in the same query (the till's hot path needs them); they
        # are never cached with the user (see apps.users.cache)
        routed = getattr(connection, "tenant", None)
        user = cached_auth_user(
            user_id,
            lambda: auth_user_get(user_id=user_id),
            tenant_id=getattr(routed, "pk", None),  # None on the public schema (FakeTenant)
        )
        if user is None or not user.can_sign_in:
            raise AuthenticationFailed("User is inactive or does not exist.", code="user_inactive")
        if validated_token.get("tv") != user.token_version:
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        token_schema = validated_token.get("tenant")
        user_schema = user.tenant.schema_name if user.tenant_id else None
        routed_schema = connection.schema_name
        if token_schema != user_schema or routed_schema != (
            token_schema or get_public_schema_name()
        ):
            raise AuthenticationFailed("Token is not valid for this tenant.", code="wrong_tenant")
        if user.tenant_id and user.tenant.is_suspended:
            raise PermissionDenied(
                "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
            )
        return user

    def _operator_user(self, validated_token, access) -> User:
        """A platform operator acting in one company (`apps.core.operator`): accepted only for the
        very token the middleware checked and routed into that company's schema, and only while
        the operator is still a signed-in SUPER_ADMIN with that token version."""
        from apps.core.operator import acting_user  # not at import: DRF loads this class early

        operator = access.operator
        if (
            validated_token is not access.token
            or validated_token.get("sub") != str(operator.pk)
            or validated_token.get("tenant") is not None
            or operator.role != Role.SUPER_ADMIN
            or not operator.can_sign_in
            or validated_token.get("tv") != operator.token_version
            or connection.schema_name != access.tenant.schema_name
        ):
            raise AuthenticationFailed("Token is not valid for this tenant.", code="wrong_tenant")
        if access.tenant.is_suspended:
            raise PermissionDenied(
                "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
            )
        return acting_user(access)
