import pytest

from apps.core.roles import ROLE_PERMISSIONS, TENANT_PERMISSIONS, role_has_permission


def test_admin_has_every_tenant_permission_and_manager_all_but_tenant_manage():
    assert ROLE_PERMISSIONS["ADMIN"] == TENANT_PERMISSIONS
    assert ROLE_PERMISSIONS["MANAGER"] == TENANT_PERMISSIONS - {"tenant:manage"}


def test_cashier_permissions_are_exactly_the_design_table():
    assert ROLE_PERMISSIONS["CASHIER"] == {
        "product:read",
        "category:read",
        "inventory:read",
        "sale:create",
        "sale:read",
        "customer:read",
        "customer:write",
        "receipt:generate",
    }


@pytest.mark.parametrize(
    "role, permission, allowed",
    [
        ("MANAGER", "ADMIN/MANAGER", True),
        ("CASHIER", "ADMIN/MANAGER", False),
        ("SUPER_ADMIN", "SUPER_ADMIN", True),
        ("ADMIN", "SUPER_ADMIN", False),
        ("SUPER_ADMIN", "product:read", False),
        ("CASHIER", "authenticated", True),
        ("CASHIER", "sale:void", False),
    ],
)
def test_role_has_permission(role, permission, allowed):
    assert role_has_permission(role, permission) is allowed


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError):
        role_has_permission("ADMIN", "prodcut:read")
