from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.core.roles import AUTHENTICATED, PUBLIC, role_has_permission


def required_permission_for(view, request) -> str:
    """A view declares `required_permission`: one string, or a dict keyed by action (viewsets)
    or HTTP method. Views that declare nothing require a signed-in user."""
    required = getattr(view, "required_permission", AUTHENTICATED)
    if isinstance(required, dict):
        action = getattr(view, "action", None)
        key = action if action in required else request.method.lower()
        if key in required:
            return required[key]
        if request.method == "OPTIONS" or (
            action is None and not hasattr(view, request.method.lower())
        ):
            return AUTHENTICATED  # a method the view does not serve: DRF answers 405
        raise KeyError(f"{type(view).__name__} declares no permission for {key!r}")
    return required


class HasPermission(BasePermission):
    """Checks the role → permission table (apps.core.roles) for the view's required permission."""

    def has_permission(self, request, view) -> bool:
        permission = required_permission_for(view, request)
        if permission == PUBLIC:
            return True
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return role_has_permission(user.role, permission)
