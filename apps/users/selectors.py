from __future__ import annotations

from apps.core.roles import ROLE_PERMISSIONS
from apps.users.models import User


def user_permissions(*, user: User) -> list[str]:
    return sorted(ROLE_PERMISSIONS.get(user.role, frozenset()))
