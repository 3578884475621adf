from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.tenants.limits import plan_feature_require


class PlanFeatureRequired(BasePermission):
    """A view that declares `required_feature` (one feature, or a dict keyed by action) answers
    403 FEATURE_NOT_IN_PLAN when the caller's company plan lacks it. Runs after the role check,
    so a role that may not call the view still gets 403 FORBIDDEN."""

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_feature", None)
        if isinstance(required, dict):
            required = required.get(getattr(view, "action", None) or request.method.lower())
        if required:
            plan_feature_require(tenant=getattr(request.user, "tenant", None), feature=required)
        return True
