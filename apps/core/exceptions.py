"""The API's one exception handler: every error leaves as the error envelope
`{"success": false, "error": {"code", "message", "details"}}` with the contract's status codes."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core import outage
from apps.core.errors import ApplicationError, ErrorCode, RateLimited
from apps.core.renderers import camel_key

logger = logging.getLogger("mipos.errors")

_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.ParseError: ErrorCode.VALIDATION_ERROR,
    drf.ValidationError: ErrorCode.VALIDATION_ERROR,
    drf.AuthenticationFailed: ErrorCode.UNAUTHORIZED,
    drf.NotAuthenticated: ErrorCode.UNAUTHORIZED,
    drf.PermissionDenied: ErrorCode.FORBIDDEN,
    drf.NotFound: ErrorCode.NOT_FOUND,
    drf.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf.NotAcceptable: ErrorCode.VALIDATION_ERROR,
    drf.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf.Throttled: ErrorCode.RATE_LIMITED,
}


def camel_field(name: str) -> str:
    return camel_key(name)


def flatten_details(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error structure → `[{"field": "items.0.quantity", "message": "…"}]`."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else camel_field(str(key))
            out += flatten_details(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": prefix or None, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:  # DRF puts {} for list items without errors
                out += flatten_details(item, f"{prefix}.{index}" if prefix else str(index))
        return out
    return [{"field": prefix or None, "message": str(detail)}]


def error_body(code: str, message: str, details: list | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": str(code), "message": message, "details": details or []},
    }


def error_response(
    status: int, code: str, message: str, details: list | None = None, headers=None
) -> Response:
    response = Response(error_body(code, message, details), status=status, headers=headers)
    response.enveloped = True
    return response


DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable. Retry later."


def database_unavailable_json() -> JsonResponse:
    """The same answer outside DRF (middleware, Django's error handler, the breaker)."""
    response = JsonResponse(
        error_body(ErrorCode.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE), status=503
    )
    response["Retry-After"] = str(outage.DATABASE_RETRY_AFTER_SECONDS)
    return response


def database_unavailable_response(exc: BaseException) -> Response:
    """503 with `Retry-After` for a request that could not reach PostgreSQL (`outage`)."""
    outage.database_failed(exc)
    return error_response(
        503,
        ErrorCode.SERVICE_UNAVAILABLE,
        DATABASE_UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(outage.DATABASE_RETRY_AFTER_SECONDS)},
    )


def api_exception_handler(exc: Exception, context: dict) -> Response:
    set_rollback()
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)
    if isinstance(exc, Http404):
        return error_response(404, ErrorCode.NOT_FOUND, "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(403, ErrorCode.FORBIDDEN, "You do not have permission.")
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error_response(
            400, ErrorCode.VALIDATION_ERROR, "Validation failed.", flatten_details(detail)
        )
    if isinstance(exc, drf.APIException):
        code = next((c for t, c in _DRF_CODES.items() if isinstance(exc, t)), None)
        code = code or str(getattr(exc, "default_code", "ERROR")).upper()
        headers = {}
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, (drf.ValidationError, drf.ParseError)):
            details = flatten_details(exc.detail)
            message = (
                "Validation failed."
                if isinstance(exc, drf.ValidationError)
                else details[0]["message"]
            )
            return error_response(400, code, message, details, headers)
        message = (
            str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail
        )
        return error_response(exc.status_code, code, str(message), [], headers)
    if outage.database_unavailable(exc):
        return database_unavailable_response(exc)
    request = context.get("request")
    where = {"method": request.method, "path": request.path, "status": 500} if request else {}
    logger.exception("Unhandled error", exc_info=exc, extra=where)
    return error_response(500, ErrorCode.INTERNAL_ERROR, "An unexpected error occurred.")
