"""A receipt preview opened from a signed link (`?signature=`) instead of a bearer token."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apps.core.errors import ErrorCode, PermissionDenied
from apps.core.middleware import tenant_for_schema
from apps.receipts.links import receipt_link_verify
from apps.users.selectors import auth_user_get

INVALID = "The link is invalid or has expired."


class ReceiptLinkAuthentication(BaseAuthentication):
    """The link's signature names the company, the sale and the user (see apps.receipts.links):
    the request is routed to that company's schema and runs as that user, read fresh, with the
    user's own permissions. A link opens only the sale it was made for."""

    def authenticate(self, request):
        signature = request.query_params.get("signature")
        if not signature:
            return None
        claims = receipt_link_verify(signature)
        kwargs = (request.parser_context or {}).get("kwargs", {})
        if claims is None or claims.sale_id != str(kwargs.get("sale_id")):
            raise AuthenticationFailed(INVALID)
        routed = getattr(request._request, "tenant", None)
        routed_schema = getattr(routed, "schema_name", get_public_schema_name())
        if routed_schema not in (get_public_schema_name(), claims.schema):
            raise AuthenticationFailed("This link is not valid for this host.")
        user = auth_user_get(user_id=claims.user_id)
        if (
            user is None
            or not user.can_sign_in
            or user.token_version != claims.token_version
            or user.tenant is None
            or user.tenant.schema_name != claims.schema
        ):
            raise AuthenticationFailed(INVALID)
        if user.tenant.is_suspended:
            raise PermissionDenied(
                "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
            )
        tenant = tenant_for_schema(claims.schema)
        connection.set_tenant(tenant)  # the middleware sets the public schema back at the end
        request._request.tenant = tenant
        return user, None

    def authenticate_header(self, request) -> str:
        return "Bearer"


class ReceiptLinkScheme(OpenApiAuthenticationExtension):
    target_class = ReceiptLinkAuthentication
    name = "receiptLink"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": "signature"}
