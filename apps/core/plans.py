"""Plan limits as every layer sees them: what a plan limits (`PlanResource`), how many of each a
company has (a counter that the app owning the rows registers in its `AppConfig.ready()`), and the
guard that creators call. The guard's policy — the company's plan, the lock, the count, the
refusal — is `apps.tenants.limits.plan_limit_guard`, registered by the tenants app; apps below
tenants (stores, users) call it through here without importing the layers above them."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from apps.core.hooks import Hook


class PlanResource(StrEnum):
    STORES = "stores"
    WAREHOUSES = "warehouses"
    USERS = "users"
    PRODUCTS = "products"
    SALES_PER_MONTH = "salesPerMonth"


_COUNTERS: dict[PlanResource, Callable[[Any], int]] = {}
# apps.tenants.limits.plan_limit_guard, registered by the tenants app
plan_limit_guard_hook = Hook("plan limit guard", provider="apps.tenants")
# apps.tenants.usage.tenant_usage_recount, registered by the tenants app
usage_recount_hook = Hook("plan usage recount", provider="apps.tenants")


def usage_counter_register(resource: PlanResource, counter: Callable[[Any], int]) -> None:
    """`counter(tenant)` answers, in the company's schema, how many of `resource` it has now."""
    _COUNTERS[resource] = counter


def resource_usage(resource: PlanResource, *, tenant) -> int:
    """How many of `resource` the company has now (run in its schema)."""
    counter = _COUNTERS.get(resource)
    if counter is None:
        raise ImproperlyConfigured(f"No usage counter registered for the plan resource {resource}")
    return counter(tenant)


def plan_limit_guard(*, resource: PlanResource, tenant, adding: int = 1, package=None) -> None:
    """Refuses (422 PLAN_LIMIT_REACHED) when `adding` more of `resource` would pass the company's
    plan; call inside the creating transaction (see apps.tenants.limits.plan_limit_guard)."""
    plan_limit_guard_hook(resource=resource, tenant=tenant, adding=adding, package=package)


def plan_usage_changed(*resources: PlanResource, tenant) -> None:
    """The console's copy of the company's usage of `resources` is recounted. Call in the
    transaction that created or removed them, after the change, as late as possible (see
    apps.tenants.usage)."""
    usage_recount_hook(tenant=tenant, resources=resources)


def current_tenant(actor=None):
    """The company the current schema belongs to: the actor's (loaded with its plan when the
    actor is the request's user), else the connection's."""
    tenant = getattr(actor, "tenant", None)
    if tenant is not None and tenant.schema_name == connection.schema_name:
        return tenant
    return connection.tenant
