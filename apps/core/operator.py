"""Operator access: a platform operator (SUPER_ADMIN) acting inside one company.

The only way a request reaches a company's schema other than with that company's own token: a
SUPER_ADMIN access token plus `X-Act-As-Tenant: <company id>` and `X-Act-As-Reason: <why>`.

- Only a SUPER_ADMIN token may send the header: from anyone else it is refused (403), never
  ignored. Without a valid token: 401. Only company endpoints (`/api/v1/…`) take it (400 elsewhere).
- The reason is required, 3-500 characters (400 VALIDATION_ERROR naming the header).
- An unknown id, the template schema or the public one: 404. A suspended company: 403
  TENANT_SUSPENDED, as for the company's own users.
- GET and HEAD only, unless the token is fresh: its `authAt` (the password check that opened the
  session, kept through refresh rotation) within OPERATOR_WRITE_REAUTH_MINUTES of now, checked on
  every request; otherwise 403 REAUTH_REQUIRED (log in again: `POST /api/auth/login`).
- Inside, the operator is an ADMIN of that company (`acting_user`): every permission check, every
  scope (`user.tenant`) and every audit row of a change sees that role and company, with the
  operator's own user id as the actor.
- Every request that got in is audited twice after the response — on the company's trail and on
  the platform's — with method, path, query, reason and status (`operator.access`). A read whose
  access could not be recorded is not answered (503).

Requests without the header pay one dict lookup (`TenantRoutingMiddleware`), nothing more.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_tenants.utils import get_public_schema_name, get_tenant_model

from apps.core.context import update_context
from apps.core.errors import ErrorCode
from apps.core.exceptions import error_body
from apps.core.hooks import Hook
from apps.core.roles import Role

logger = logging.getLogger("mipos.operator")

TENANT_HEADER = "X-Act-As-Tenant"
REASON_HEADER = "X-Act-As-Reason"
TENANT_META = "HTTP_X_ACT_AS_TENANT"
REASON_META = "HTTP_X_ACT_AS_REASON"
REASON_MIN_LENGTH, REASON_MAX_LENGTH = 3, 500
READ_METHODS = frozenset({"GET", "HEAD"})
# what the operator may do inside the company (docs/design/operator-access.md)
ACTING_ROLE = Role.ADMIN
API_PREFIX = "/api/v1/"
# the access token's claim holding when the password was checked (written by apps.users.tokens)
AUTH_AT_CLAIM = "authAt"

# what this module needs from the apps above core (apps.core.hooks): the signed-in user by id, as
# DRF's authentication loads it (apps.users registers it), and the trail of an operator's request
# (apps.audit.services.operator_access_record, registered by the audit app)
auth_user_loader = Hook("authenticated user loader", provider="apps.users")
operator_access_recorder = Hook("operator access recorder", provider="apps.audit")


@dataclass(frozen=True)
class OperatorAccess:
    """An accepted operator request: who, in which company, why, with which verified token."""

    operator: Any  # the operator's own User row, as loaded for this request
    tenant: Any  # the company (apps.tenants.models.Tenant)
    reason: str
    token: Any  # the verified AccessToken (DRF's authentication must see this very token)


def _refuse(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    details = [{"field": field, "message": message}] if field else None
    return JsonResponse(error_body(code, message, details), status=status)


def _header_text(value: str) -> str:
    """A header as the client wrote it: WSGI hands headers over decoded as Latin-1, so a reason
    typed in UTF-8 ("Müller's till") is read back as UTF-8 when it is valid UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _reauth_minutes() -> int:
    return getattr(settings, "OPERATOR_WRITE_REAUTH_MINUTES", 15)  # mipos/settings/base.py


def _fresh(token) -> bool:
    """Whether the token's password check is recent enough for a write (now, at every call)."""
    auth_at = token.get(AUTH_AT_CLAIM)
    if not isinstance(auth_at, int | float) or isinstance(auth_at, bool):
        return False
    return time.time() - auth_at <= _reauth_minutes() * 60


def operator_access_open(request: HttpRequest, *, token) -> OperatorAccess | JsonResponse:
    """The access `request` asks for with X-Act-As-Tenant, or the error response refusing it.
    Nothing is selected and nothing written when it is refused."""
    if token is None:
        message = f"{TENANT_HEADER} needs a platform operator's access token."
        return _refuse(401, ErrorCode.UNAUTHORIZED, message)
    if token.get("role") != Role.SUPER_ADMIN or token.get("tenant") is not None:
        return _refuse(
            403, ErrorCode.FORBIDDEN, f"Only a platform operator may send {TENANT_HEADER}."
        )
    if not request.path_info.startswith(API_PREFIX):
        return _refuse(
            400,
            ErrorCode.VALIDATION_ERROR,
            f"{TENANT_HEADER} applies to company endpoints ({API_PREFIX}…) only.",
            TENANT_HEADER,
        )
    reason = _header_text(request.META.get(REASON_META, "")).strip()
    if not REASON_MIN_LENGTH <= len(reason) <= REASON_MAX_LENGTH:
        return _refuse(
            400,
            ErrorCode.VALIDATION_ERROR,
            f"{REASON_HEADER} is required with {TENANT_HEADER}: "
            f"{REASON_MIN_LENGTH} to {REASON_MAX_LENGTH} characters.",
            REASON_HEADER,
        )
    user_id = token.get("sub")
    operator = auth_user_loader(user_id)
    if operator is None or not operator.can_sign_in or token.get("tv") != operator.token_version:
        return _refuse(401, ErrorCode.UNAUTHORIZED, "Token has been revoked.")
    if operator.role != Role.SUPER_ADMIN:
        return _refuse(
            403, ErrorCode.FORBIDDEN, f"Only a platform operator may send {TENANT_HEADER}."
        )
    try:
        tenant_id = uuid.UUID(request.META[TENANT_META].strip())
    except ValueError:
        tenant = None
    else:
        tenant = (
            get_tenant_model()
            .objects.select_related("settings")
            .filter(pk=tenant_id, is_template=False)
            .exclude(schema_name=get_public_schema_name())
            .first()
        )
    if tenant is None:
        return _refuse(404, ErrorCode.NOT_FOUND, "Company not found.", TENANT_HEADER)
    if tenant.is_suspended:
        return _refuse(403, ErrorCode.TENANT_SUSPENDED, "This company's account is suspended.")
    if request.method not in READ_METHODS and not _fresh(token):
        minutes = _reauth_minutes()
        return _refuse(
            403,
            ErrorCode.REAUTH_REQUIRED,
            f"Writes inside a company need a password check in the last {minutes} minutes: "
            "log in again (POST /api/auth/login) and use the new access token.",
        )
    return OperatorAccess(operator=operator, tenant=tenant, reason=reason, token=token)


def operator_request(request: HttpRequest, *, db, token, get_response) -> HttpResponse:
    """Serves a request carrying X-Act-As-Tenant (called by TenantRoutingMiddleware, which resets
    the schema afterwards): refused, or run in the company's schema and audited."""
    access = operator_access_open(request, token=token)
    if isinstance(access, HttpResponse):
        return access
    db.set_tenant(access.tenant)
    request.tenant = access.tenant
    request.operator_access = access  # DRF's authentication accepts the operator only with it
    update_context(tenant=access.tenant.schema_name)
    response = get_response(request)
    try:
        operator_access_recorder(
            operator=access.operator,
            tenant=access.tenant,
            method=request.method,
            path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            reason=access.reason,
            status=response.status_code,
        )
    except DatabaseError:
        logger.exception("operator access could not be audited")
        if request.method in READ_METHODS:  # nothing read leaves unrecorded
            return _refuse(
                503, ErrorCode.SERVICE_UNAVAILABLE, "The access could not be recorded; try again."
            )
        # a write is committed already, and its own audit rows name the operator
    return response


def _refused_save(*args, **kwargs):
    raise RuntimeError("An operator's acting identity is never saved.")


def acting_user(access: OperatorAccess):
    """The operator as the company's ADMIN for this request: a copy of the operator's row with the
    company and the acting role (same id, so every audit row of a change names the operator).
    It can never be saved: the stored row keeps SUPER_ADMIN and no company."""
    user = copy.copy(access.operator)  # own state and field cache (Model.__getstate__)
    user.role = ACTING_ROLE
    user.tenant = access.tenant
    user.operator_access = access
    user.save = _refused_save
    user.delete = _refused_save
    return user


# --- OpenAPI ---------------------------------------------------------------------------------

OPENAPI_NOTE = (
    "\n\n**Operator access.** A platform operator (SUPER_ADMIN token) acts inside one company "
    f"by sending `{TENANT_HEADER}: <company id>` and `{REASON_HEADER}: <why, 3-500 characters>` "
    "on a company endpoint (`/api/v1/...`), with that company's ADMIN permissions. Reads (GET, "
    "HEAD) always; writes only with a token from a password login in the last "
    "OPERATOR_WRITE_REAUTH_MINUTES minutes (403 `REAUTH_REQUIRED` otherwise). Any other role "
    "sending the header gets 403; a missing reason 400; an unknown company 404. Every such "
    "request is audited on the company's trail and the platform's (`operator.access`)."
)


def operator_openapi_hook(result, generator, request, public):
    """Documents the operator headers once, as reusable header parameters and a security scheme
    (not attached to every operation: they are for operators, and a generated client or fuzzer
    sending them by default would turn every call into a 403)."""
    info = result.setdefault("info", {})
    if OPENAPI_NOTE not in info.get("description", ""):
        info["description"] = info.get("description", "") + OPENAPI_NOTE
    components = result.setdefault("components", {})
    components.setdefault("parameters", {}).update(
        {
            "ActAsTenant": {
                "in": "header",
                "name": TENANT_HEADER,
                "required": False,
                "schema": {"type": "string", "format": "uuid"},
                "description": "SUPER_ADMIN only: the company to act in (needs "
                f"{REASON_HEADER}). Anyone else sending it gets 403.",
            },
            "ActAsReason": {
                "in": "header",
                "name": REASON_HEADER,
                "required": False,
                "schema": {
                    "type": "string",
                    "minLength": REASON_MIN_LENGTH,
                    "maxLength": REASON_MAX_LENGTH,
                },
                "description": f"Why the operator acts in the company (with {TENANT_HEADER}).",
            },
        }
    )
    components.setdefault("securitySchemes", {})["operatorActAsTenant"] = {
        "type": "apiKey",
        "in": "header",
        "name": TENANT_HEADER,
        "description": "Operator access (with a SUPER_ADMIN bearer token and "
        f"{REASON_HEADER}): see the API description.",
    }
    return result
