"""Per-request context (request id, client IP, user agent, tenant, user) kept in contextvars so
that logging and the audit trail can read it without passing the request around."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    tenant: str | None = None  # schema name
    user_id: str | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "mipos_request_context",
    default=RequestContext(),  # noqa: B039  (frozen, so not shared mutable state)
)


def current() -> RequestContext:
    return _current.get()


def set_context(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def update_context(**changes: str | None) -> None:
    _current.set(replace(_current.get(), **changes))


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)
