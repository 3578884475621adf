"""Subscription limits and features, enforced where the counted things are created.

A limit is checked inside the creating transaction: the creators of one resource of one company
take the same transaction-level advisory lock, then count what exists (a fresh statement, so it
sees what the previous holder committed) and refuse when one more would pass the plan's limit.
Two parallel creates at the limit therefore cannot both pass: the second counts the first.
Companies whose plan sets no limit for a resource (or that have no plan) take no lock and count
nothing. Downgrading below the current usage is allowed: nothing is removed, new creates are
refused until the usage is under the limit again.

The counting is the owning apps': each registers its counter with `apps.core.plans` in its
`AppConfig.ready()` (users, stores, catalog, sales); this guard is registered there by the tenants
app, so the apps below tenants reach it through `apps.core.plans.plan_limit_guard`.
"""

from __future__ import annotations

from django.db import connection

from apps.core.db import advisory_locks
from apps.core.errors import BusinessRuleViolation, ErrorCode, PermissionDenied
from apps.core.plans import PlanResource, current_tenant, resource_usage
from apps.tenants.models import Package, Tenant

LIMIT_FIELDS: dict[PlanResource, str] = {
    PlanResource.STORES: "max_stores",
    PlanResource.WAREHOUSES: "max_warehouses",
    PlanResource.USERS: "max_users",
    PlanResource.PRODUCTS: "max_products",
    PlanResource.SALES_PER_MONTH: "max_sales_per_month",
}
NOUNS: dict[PlanResource, str] = {
    PlanResource.STORES: "stores",
    PlanResource.WAREHOUSES: "warehouses",
    PlanResource.USERS: "active users",
    PlanResource.PRODUCTS: "products",
    PlanResource.SALES_PER_MONTH: "sales this month",
}


def tenant_package(tenant: Tenant) -> Package | None:
    """The company's plan: the one loaded with the request's user (read with it per request, or
    from the shared cache that every plan change invalidates), else read now."""
    if "package" in tenant._state.fields_cache:
        return tenant._state.fields_cache["package"]
    return Package.objects.filter(tenants__pk=tenant.pk).first()


def plan_limit_guard(
    *, resource: PlanResource, tenant: Tenant, adding: int = 1, package: Package | None = None
) -> None:
    """Refuses (422 PLAN_LIMIT_REACHED, with the limit and the usage in `details`) when `adding`
    more of `resource` would pass the company's plan. Call inside the creating transaction, before
    the insert: the lock it takes is held until that transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("plan_limit_guard must run inside the creating transaction")
    plan = package if package is not None else tenant_package(tenant)
    limit = getattr(plan, LIMIT_FIELDS[resource]) if plan is not None else None
    if limit is None or adding <= 0:
        return
    advisory_locks([f"plan:{tenant.pk}:{resource}"])
    used = resource_usage(resource, tenant=tenant)
    if used + adding > limit:
        noun = NOUNS[resource]
        raise BusinessRuleViolation(
            f"Your plan ({plan.name}) allows {limit} {noun}; {used} in use.",
            code=ErrorCode.PLAN_LIMIT_REACHED,
            details=[
                {
                    "field": str(resource),
                    "message": f"Plan limit of {limit} {noun} reached.",
                    "limit": limit,
                    "usage": used,
                    "requested": adding,
                }
            ],
        )


def plan_feature_require(*, tenant: Tenant | None, feature: str) -> None:
    """403 FEATURE_NOT_IN_PLAN when the company's plan does not include `feature` (a company
    without a plan has every feature)."""
    if tenant is None:
        return
    plan = tenant_package(tenant)
    if plan is not None and not plan.has_feature(feature):
        raise PermissionDenied(
            f"Your plan ({plan.name}) does not include {feature}.",
            code=ErrorCode.FEATURE_NOT_IN_PLAN,
            details=[{"field": "feature", "message": f"Not in the plan: {feature}."}],
        )


__all__ = [
    "LIMIT_FIELDS",
    "NOUNS",
    "PlanResource",
    "current_tenant",
    "plan_feature_require",
    "plan_limit_guard",
    "resource_usage",
    "tenant_package",
]
