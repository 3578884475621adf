from __future__ import annotations

from apps.core.throttling import FixedWindowThrottle
from apps.tenants.limits import tenant_package


class CompanyThrottle(FixedWindowThrottle):
    """The whole company's API requests per minute, as its plan says (`requestsPerMinute`; null
    or no plan: no company-wide limit, and no counter is touched). On top of the per-user limit:
    one busy company cannot starve the others of a shared deployment."""

    scope = "company"
    rate = None  # the plan's, per request

    def get_rate(self) -> None:
        return None  # no settings entry: the rate comes from the plan

    def allow_request(self, request, view) -> bool:
        user = request.user
        tenant = getattr(user, "tenant", None) if user and user.is_authenticated else None
        plan = tenant_package(tenant) if tenant is not None else None
        if plan is None or plan.requests_per_minute is None:
            return True
        self.rate = f"{plan.requests_per_minute}/min"
        self.num_requests, self.duration = plan.requests_per_minute, 60
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return f"throttle:company:{request.user.tenant_id}"
