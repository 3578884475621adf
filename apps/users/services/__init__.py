"""Writes for identity: users, sessions (login, refresh, logout) and passwords.

One module per use case: `sessions` (login, refresh, logout, password change), `pins` (the
approval PIN), `recovery` (forgot / reset password), `staff` (a company's staff, and one's own
profile), `platform` (super admin management); `common` holds what they share (creating a user,
ending sessions, the locked user row and the last-admin rules)."""

from apps.users.services.common import (
    password_validate,
    user_create,
    user_lock,
    user_sessions_revoke,
)
from apps.users.services.pins import PIN_DIGITS, approver_verify, pin_set
from apps.users.services.platform import (
    BULK_ACTIONS,
    super_admin_create,
    super_admin_ensure,
    user_hard_delete,
    user_soft_delete,
    user_undelete,
    users_bulk_action,
)
from apps.users.services.recovery import (
    password_recovery_complete,
    password_recovery_request,
    password_reset_token_issue,
    user_access_link_send,
)
from apps.users.services.sessions import (
    Session,
    password_change,
    session_login,
    session_logout,
    session_logout_all,
    session_refresh,
)
from apps.users.services.staff import (
    STAFF_FIELDS,
    STAFF_ROLES,
    password_reset,
    profile_update,
    staff_create,
    staff_deactivate,
    staff_restore,
    staff_update,
    user_snapshot,
)

__all__ = [
    "BULK_ACTIONS",
    "PIN_DIGITS",
    "STAFF_FIELDS",
    "STAFF_ROLES",
    "Session",
    "approver_verify",
    "password_change",
    "password_recovery_complete",
    "password_recovery_request",
    "password_reset",
    "password_reset_token_issue",
    "password_validate",
    "pin_set",
    "profile_update",
    "session_login",
    "session_logout",
    "session_logout_all",
    "session_refresh",
    "staff_create",
    "staff_deactivate",
    "staff_restore",
    "staff_update",
    "super_admin_create",
    "super_admin_ensure",
    "user_access_link_send",
    "user_create",
    "user_hard_delete",
    "user_lock",
    "user_sessions_revoke",
    "user_snapshot",
    "user_soft_delete",
    "user_undelete",
    "users_bulk_action",
]
