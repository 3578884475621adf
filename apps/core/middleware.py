from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections import OrderedDict

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from django_tenants.utils import get_tenant_domain_model, get_tenant_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from apps.core import metrics, outage
from apps.core.context import RequestContext, reset_context, set_context, update_context
from apps.core.errors import ErrorCode
from apps.core.events import events_batched
from apps.core.exceptions import database_unavailable_json, error_body
from apps.core.shared_cache import shared_reads

logger = logging.getLogger("mipos.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _valid_ip(value: str | None) -> str | None:
    """`value` as a normalised IP address, or None when it is not one (it is stored in an `inet`
    column: garbage from a header must never reach it)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: with `NUM_PROXIES` trusted proxies, the address the outermost of them
    saw in `X-Forwarded-For`; else `REMOTE_ADDR`. None when that is not a valid IP address."""
    if settings.REST_FRAMEWORK.get("NUM_PROXIES"):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        if hops:
            return _valid_ip(hops[-min(len(hops), settings.REST_FRAMEWORK["NUM_PROXIES"])])
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def nul_refusal(request) -> JsonResponse | None:
    """PostgreSQL text cannot hold a NUL character, so a path or query parameter carrying one
    could only fail in the database (a 500). Refused here, once for every endpoint: 400, before
    anything is read or written. (JSON bodies are checked by the serializers' fields.)"""
    if "\x00" in request.path_info:
        details = [{"field": None, "message": "The path must not contain NUL characters."}]
    elif "%00" in request.META.get("QUERY_STRING", ""):
        details = [
            {"field": key.replace("\x00", ""), "message": "Must not contain NUL characters."}
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        ]
        if not details:
            return None
    else:
        return None
    return JsonResponse(
        error_body(ErrorCode.VALIDATION_ERROR, "Validation failed.", details), status=400
    )


def database_breaker_refusal(request) -> JsonResponse | None:
    """While this process has just seen PostgreSQL unreachable (apps.core.outage), a request
    answers 503 at once instead of waiting for a connection that will not come; one request per
    `probe_seconds` still goes through and finds out when the database is back. The liveness
    probe never asks the database."""
    if outage.database.available() or request.path_info == "/health/live":
        return None
    return database_unavailable_json()


class RequestContextMiddleware:
    """Request id, client IP and user agent into the context; trailing slash made optional under
    /api; a NUL character in the path or query refused (`nul_refusal`); one JSON log line per
    request; the request's committed events sent together at its end
    (one trip into the event loop, not one per event)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        path = request.path_info
        if path.startswith("/api/") and len(path) > 5 and path.endswith("/"):
            request.path_info = path.rstrip("/")
        token = set_context(
            RequestContext(
                request_id=request_id,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            )
        )
        started = time.perf_counter()
        queries = [0]

        def counted(execute, sql, params, many, context):
            queries[0] += 1
            return execute(sql, params, many, context)

        try:
            with (
                events_batched(),
                shared_reads(),
                connections[DEFAULT_DB_ALIAS].execute_wrapper(counted),
            ):
                response = (
                    nul_refusal(request)
                    or database_breaker_refusal(request)
                    or self.get_response(request)
                )
            seconds = time.perf_counter() - started
            if queries[0] and response.status_code != 503:
                outage.database.succeeded()  # ends (and logs) an outage this process saw
            metrics.request_observed(request, response.status_code, seconds, queries[0])
            response["X-Request-ID"] = request_id
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                update_context(user_id=str(user.pk))
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "durationMs": round(seconds * 1000, 2),
                },
            )
            return response
        finally:
            reset_context(token)


def bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":  # the scheme is case-insensitive
        return parts[1]
    return None


# Verified access tokens by their exact text. Only what never changes is kept: that this string
# carries a valid signature and these claims. Expiry is a question about *now*, so it is checked
# against the current time on every use (a token object remembers the time it was built, and
# `check_exp()` without an argument compares against that). Bounded: the oldest entries go first.
_VERIFIED_TOKENS: OrderedDict[str, AccessToken] = OrderedDict()
_VERIFIED_TOKENS_MAX = 10_000


def verified_access_token(raw: str) -> AccessToken | None:
    """The access token, verified (signature, type, and expiry at the current time) without
    touching the database; None when it is not (or no longer) valid."""
    try:
        token = _VERIFIED_TOKENS.get(raw)
        if token is None:
            token = AccessToken(raw)  # verifies signature, type and expiry (now)
            _VERIFIED_TOKENS[raw] = token
            if len(_VERIFIED_TOKENS) > _VERIFIED_TOKENS_MAX:
                _VERIFIED_TOKENS.popitem(last=False)
        else:
            token.check_exp(current_time=aware_utcnow())
        return token
    except TokenError:
        _VERIFIED_TOKENS.pop(raw, None)
        return None


# schema name → tenant id: the only per-process tenant data, because neither ever changes. Each
# call builds a fresh Tenant instance with every other field deferred, so nothing mutable (status,
# name, settings) is ever remembered across requests: a field read later loads for this request.
_TENANTS_BY_SCHEMA: dict[str, object] = {}


def tenant_for_schema(schema: str):
    Tenant = get_tenant_model()  # settings.TENANT_MODEL
    tenant_id = _TENANTS_BY_SCHEMA.get(schema)
    if tenant_id is None:
        tenant_id = Tenant.objects.filter(schema_name=schema).values_list("pk", flat=True).first()
        if tenant_id is None:
            return None
        if len(_TENANTS_BY_SCHEMA) < 10_000:
            _TENANTS_BY_SCHEMA[schema] = tenant_id
    known = {"id": tenant_id, "schema_name": schema}
    names = [field.attname for field in Tenant._meta.concrete_fields if field.attname in known]
    return Tenant.from_db("default", names, [known[name] for name in names])


_ACT_AS_TENANT = "HTTP_X_ACT_AS_TENANT"  # apps.core.operator.TENANT_META


class TenantRoutingMiddleware:
    """Selects the tenant schema for the request from the verified access token (never from input).

    A host that is a tenant's domain accepts only that tenant's tokens. DRF's authentication then
    re-checks that the token's tenant, the user's tenant and the selected schema agree.
    The one exception: a SUPER_ADMIN token with `X-Act-As-Tenant` (and a reason), checked, routed
    and audited by `apps.core.operator` — a request without that header pays one dict lookup.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        Domain = get_tenant_domain_model()  # settings.TENANT_DOMAIN_MODEL
        db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection
        db.set_schema_to_public()
        request.tenant = db.tenant  # django-tenants' public stand-in until a tenant is set
        host = request.get_host().split(":")[0].lower() if request.META.get("HTTP_HOST") else ""
        host_tenant = None
        if host and host not in settings.API_HOSTS and request.path_info != "/health":
            domain = Domain.objects.select_related("tenant").filter(domain=host).first()
            host_tenant = domain.tenant if domain else None

        schema = host_tenant.schema_name if host_tenant else None
        raw = bearer_token(request)
        token = verified_access_token(raw) if raw else None
        if token is not None:
            request.verified_access_token = (raw, token)  # reused by DRF's authentication
            token_schema = token.get("tenant")
            if host_tenant is not None and token_schema != host_tenant.schema_name:
                return JsonResponse(
                    error_body(ErrorCode.UNAUTHORIZED, "This token is not valid for this host."),
                    status=401,
                )
            schema = token_schema

        if _ACT_AS_TENANT in request.META:  # a platform operator acting in one company
            from apps.core.operator import operator_request

            try:
                return operator_request(request, db=db, token=token, get_response=self.get_response)
            finally:
                db.set_schema_to_public()

        if schema:
            tenant = host_tenant
            if tenant is None or tenant.schema_name != schema:
                tenant = tenant_for_schema(schema)
            if tenant is not None:
                db.set_tenant(tenant)
                request.tenant = tenant
                update_context(tenant=tenant.schema_name)
        try:
            return self.get_response(request)
        finally:
            db.set_schema_to_public()
