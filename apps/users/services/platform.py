"""Platform user management (SUPER_ADMIN): the platform's super admins, soft and hard deletion of
any user (a user with an audit trail is anonymised, not deleted), undeletion, and bulk actions."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.audit.models import AuditLog
from apps.audit.services import audit_record
from apps.core.db import UNSET, fields_save
from apps.core.errors import ApplicationError, BusinessRuleViolation, ErrorCode
from apps.core.roles import Role
from apps.stores.models import StoreAssignment
from apps.users.models import User, normalize_email
from apps.users.services.common import (
    guard_keeps_admins,
    guard_not_self,
    user_create,
    user_lock,
    user_sessions_revoke,
)
from apps.users.services.staff import guard_plan_users, staff_deactivate, user_state_set


def super_admin_ensure(*, email: str, password: str, name: str = "Platform admin") -> User:
    """Idempotent: the platform operator account used by the demo set-up."""
    existing = User.objects.filter(email=normalize_email(email)).first()
    if existing is not None:
        return existing
    return user_create(email=email, password=password, name=name, role=Role.SUPER_ADMIN)


def super_admin_create(
    *, actor: User, email: str, password: str, name: str, reason: str = ""
) -> User:
    """A new platform operator (API and console alike: the same password rules, one audit row,
    with the console's `reason`)."""
    with transaction.atomic():
        user = user_create(
            email=email,
            password=password,
            name=name,
            role=Role.SUPER_ADMIN,
            actor=actor,
            record_audit=False,
        )
        audit_record(
            action="user.create",
            entity_type="user",
            entity_id=user.pk,
            actor=actor,
            after={"email": user.email, "name": user.name, "role": user.role},
            reason=reason,
        )
    return user


def user_soft_delete(*, actor: User, user_id: UUID) -> User:
    """Removes a user from their company: cannot sign in, sessions revoked, history kept."""

    def guard(user: User, pending: dict) -> None:
        guard_not_self(actor, user, "You cannot delete yourself.")
        if pending:
            guard_keeps_admins(user)

    user = User.objects.filter(pk=user_id).only("deleted_at").first()
    changes = {"is_active": False}
    if user is not None and user.deleted_at is None:
        changes["deleted_at"] = timezone.now()
    return user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=UNSET,
        changes=changes,
        action="user.delete",
        event="user.deleted",
        guard=guard,
        revoke=True,
    )


def user_undelete(*, actor: User, user_id: UUID) -> User:
    return user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=UNSET,
        changes={"deleted_at": None, "is_active": True},
        action="user.restore",
        event="user.restored",
        guard=guard_plan_users,
    )


def user_hard_delete(*, actor: User, user_id: UUID, anonymise: bool = False) -> dict:
    """Deletes a user row. A user who has acted (audit rows name them) keeps their row for the
    trail: refused with 422 unless `anonymise`, which strips every personal field instead."""
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        guard_not_self(actor, user, "You cannot delete yourself.")
        has_history = AuditLog.objects.filter(actor_id=user.pk).exists()
        if has_history and not anonymise:
            raise BusinessRuleViolation(
                "This user has a history (audit trail); delete with anonymise=true instead.",
                code=ErrorCode.USER_HAS_HISTORY,
            )
        guard_keeps_admins(user)
        tenant = user.tenant
        user_sessions_revoke(user=user)
        if has_history:
            fields_save(
                user,
                {
                    "email": f"deleted-{user.pk.hex}@anonymised.invalid",
                    "name": "Deleted user",
                    "phone": "",
                    "avatar_url": "",
                    "password": make_password(None),  # unusable
                    "pin_hash": "",
                    "is_active": False,
                    "deleted_at": user.deleted_at or timezone.now(),
                },
            )
            outcome = "anonymised"
        else:
            _store_assignments_purge(user)
            OutstandingToken.objects.filter(user=user).delete()
            user.delete()
            outcome = "deleted"
        audit_record(
            action=f"user.{'anonymise' if has_history else 'hard_delete'}",
            entity_type="user",
            entity_id=user_id,
            actor=actor,
            tenant=tenant,
            after={"outcome": outcome},
        )
    return {"outcome": outcome}


def _store_assignments_purge(user: User) -> None:
    if not user.tenant_id:
        return
    from django_tenants.utils import tenant_context

    with tenant_context(user.tenant):
        StoreAssignment.objects.filter(user_id=user.pk).delete()


BULK_ACTIONS = ("activate", "deactivate", "delete")


def users_bulk_action(*, actor: User, action: str, user_ids: list) -> list[dict]:
    """Applies `action` to each user independently (one transaction each) and reports every
    outcome: nothing fails half-way silently."""
    results = []
    known = set(User.objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    for user_id in user_ids:
        if user_id not in known:
            results.append(
                {
                    "user_id": user_id,
                    "success": False,
                    "error": {"code": "NOT_FOUND", "message": "User not found."},
                }
            )
            continue
        try:
            if action == "activate":
                user_undelete(actor=actor, user_id=user_id)
            elif action == "deactivate":
                staff_deactivate(actor=actor, user_id=user_id)
            else:
                user_soft_delete(actor=actor, user_id=user_id)
            results.append({"user_id": user_id, "success": True, "error": None})
        except ApplicationError as exc:
            results.append(
                {
                    "user_id": user_id,
                    "success": False,
                    "error": {"code": exc.code, "message": exc.message},
                }
            )
    return results
