"""Roles and the one table that maps them to permissions.

Permission strings are those of `spec/endpoints.csv`. Besides them a view may require
`authenticated` (any signed-in user) or a slash-separated list of roles (`ADMIN/MANAGER`,
`SUPER_ADMIN`), exactly as the contract's permission column reads.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    SUPER_ADMIN = "SUPER_ADMIN", "Super admin"
    ADMIN = "ADMIN", "Admin"
    MANAGER = "MANAGER", "Manager"
    CASHIER = "CASHIER", "Cashier"


AUTHENTICATED = "authenticated"
PUBLIC = "public"

TENANT_PERMISSIONS: frozenset[str] = frozenset(
    {
        "product:read",
        "product:write",
        "category:read",
        "category:write",
        "inventory:read",
        "inventory:write",
        "sale:create",
        "sale:read",
        "sale:void",
        "sale:return",
        "customer:read",
        "customer:write",
        "supplier:read",
        "supplier:write",
        "purchase:read",
        "purchase:write",
        "purchase:receive",
        "expense:read",
        "expense:write",
        "report:read",
        "receipt:read",
        "receipt:write",
        "receipt:generate",
        "store:manage",
        "tenant:manage",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.SUPER_ADMIN: frozenset(),  # platform operator: acts through the super-admin API only
    Role.ADMIN: TENANT_PERMISSIONS,
    Role.MANAGER: TENANT_PERMISSIONS - {"tenant:manage"},
    Role.CASHIER: frozenset(
        {
            "product:read",
            "category:read",
            "inventory:read",
            "sale:create",
            "sale:read",
            "customer:read",
            "customer:write",
            "receipt:generate",
        }
    ),
}

_ROLE_NAMES = frozenset(Role.values)


def role_has_permission(role: str, permission: str) -> bool:
    """True when `role` satisfies `permission`: a permission, a role list or `authenticated`."""
    if permission in (AUTHENTICATED, PUBLIC):
        return True
    allowed_roles = permission.split("/")
    if all(name in _ROLE_NAMES for name in allowed_roles):
        return role in allowed_roles
    if permission not in TENANT_PERMISSIONS:
        raise ValueError(f"Unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
