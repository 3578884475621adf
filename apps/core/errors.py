"""Application errors raised by services and selectors. The API's one exception handler turns them
into the error envelope; domain code never builds HTTP responses itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_INVALID = "TOKEN_INVALID"
    FORBIDDEN = "FORBIDDEN"
    FEATURE_NOT_IN_PLAN = "FEATURE_NOT_IN_PLAN"  # 403: the company's plan lacks the feature
    TENANT_SUSPENDED = "TENANT_SUSPENDED"
    REAUTH_REQUIRED = "REAUTH_REQUIRED"  # 403: an operator's write needs a recent password check
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"  # 403: a discount beyond the seller's limit
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    STOCK_CHANGED = "STOCK_CHANGED"  # 409: a compare-and-set on stock no longer holds
    # 422 family: business rules
    BUSINESS_RULE = "BUSINESS_RULE"
    SELF_CHANGE_FORBIDDEN = "SELF_CHANGE_FORBIDDEN"
    LAST_ADMIN = "LAST_ADMIN"
    USER_HAS_HISTORY = "USER_HAS_HISTORY"
    TENANT_STATE = "TENANT_STATE"
    CURRENCY_LOCKED = "CURRENCY_LOCKED"  # 422: documents exist in the company's currency
    IN_USE = "IN_USE"
    PLAN_LIMIT_REACHED = "PLAN_LIMIT_REACHED"  # 422: one more would pass the plan's limit
    CATEGORY_CYCLE = "CATEGORY_CYCLE"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    STOCK_NOT_TRACKED = "STOCK_NOT_TRACKED"
    INVALID_STATE = "INVALID_STATE"
    BALANCE_NOT_ZERO = "BALANCE_NOT_ZERO"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    AMOUNT_EXCEEDS_DUE = "AMOUNT_EXCEEDS_DUE"
    INSUFFICIENT_CREDIT = "INSUFFICIENT_CREDIT"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    LOYALTY_DISABLED = "LOYALTY_DISABLED"
    BELOW_MIN_REDEEM = "BELOW_MIN_REDEEM"
    DISCOUNT_INVALID = "DISCOUNT_INVALID"
    POINTS_EXCEED_TOTAL = "POINTS_EXCEED_TOTAL"
    LINE_ROUNDS_TO_ZERO = "LINE_ROUNDS_TO_ZERO"  # 422: a priced line worth less than a cent
    OVERPAYMENT = "OVERPAYMENT"
    PAYMENT_INSUFFICIENT = "PAYMENT_INSUFFICIENT"
    NOT_SELLABLE = "NOT_SELLABLE"
    INVALID_LOCATION = "INVALID_LOCATION"
    VOID_WINDOW_PASSED = "VOID_WINDOW_PASSED"
    RETURN_EXCEEDS_SOLD = "RETURN_EXCEEDS_SOLD"
    CLIENT_SALE_ID_REUSED = "CLIENT_SALE_ID_REUSED"
    SHIFT_REQUIRED = "SHIFT_REQUIRED"  # 422: the company requires an open shift for this
    SHIFT_ALREADY_OPEN = "SHIFT_ALREADY_OPEN"  # 409: one open shift per cashier and per drawer
    INSUFFICIENT_CASH = "INSUFFICIENT_CASH"  # 422: more cash out than the drawer should hold
    RECEIVE_EXCEEDS_ORDERED = "RECEIVE_EXCEEDS_ORDERED"  # 422: more than remains of an order
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    RATE_LIMITED = "RATE_LIMITED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # 503: a service we depend on refused (mail)
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ApplicationError(Exception):
    status_code = 400
    default_code = ErrorCode.VALIDATION_ERROR
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = str(code or self.default_code)
        self.details = details or []
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    """400. `details` lists `{"field", "message"}` pairs."""

    status_code = 400
    default_code = ErrorCode.VALIDATION_ERROR
    default_message = "Validation failed."

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, details=[{"field": field, "message": message}])


class AuthenticationRequired(ApplicationError):
    status_code = 401
    default_code = ErrorCode.UNAUTHORIZED
    default_message = "Authentication credentials were not provided or are invalid."


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = ErrorCode.FORBIDDEN
    default_message = "You do not have permission to perform this action."


class NotFound(ApplicationError):
    status_code = 404
    default_code = ErrorCode.NOT_FOUND
    default_message = "Not found."


class Conflict(ApplicationError):
    status_code = 409
    default_code = ErrorCode.CONFLICT
    default_message = "The resource already exists."


class BusinessRuleViolation(ApplicationError):
    """422: the request is well formed but a business rule forbids it."""

    status_code = 422
    default_code = ErrorCode.BUSINESS_RULE
    default_message = "The request breaks a business rule."


class RateLimited(ApplicationError):
    status_code = 429
    default_code = ErrorCode.RATE_LIMITED
    default_message = "Too many requests. Retry later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(ApplicationError):
    """503: something the request needs outside the database (a mail server) refused."""

    status_code = 503
    default_code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = "A service this request needs is unavailable. Retry later."
