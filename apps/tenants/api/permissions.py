from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.tenants.limits import plan_feature_require
from apps.tenants.models import PlanFeature


class PlanFeatureRequired(BasePermission):
    """A view that declares `required_feature` (one feature, or a dict keyed by action) answers
    403 FEATURE_NOT_IN_PLAN when the caller's company plan lacks it; so does a request for a file
    (`?format=csv|xlsx|pdf`) from a view whose `export_requested(request)` says so, without the
    `exports` feature (before a report is computed). Runs after the role check, so a role that
    may not call the view still gets 403 FORBIDDEN."""

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request.user, "tenant", None)
        required = getattr(view, "required_feature", None)
        if isinstance(required, dict):
            required = required.get(getattr(view, "action", None) or request.method.lower())
        if required:
            plan_feature_require(tenant=tenant, feature=required)
        export_requested = getattr(view, "export_requested", None)
        if export_requested is not None and export_requested(request):
            plan_feature_require(tenant=tenant, feature=PlanFeature.EXPORTS)
        return True
