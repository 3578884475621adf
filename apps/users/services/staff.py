"""Staff management by a company's ADMIN or MANAGER: create, edit, deactivate and restore a member
of staff, reset their password; and a user's own profile. A manager never manages an admin,
nobody changes their own role, and a company keeps an active admin."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.core.db import UNSET, Unset, row_update, sent, snapshot
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.events import publish_user_access_changed
from apps.core.plans import PlanResource, plan_limit_guard
from apps.core.roles import Role
from apps.stores.selectors import store_ids_for_user
from apps.stores.services import store_assignments_set
from apps.users.cache import auth_cache_drop
from apps.users.events import user_changed
from apps.users.models import User, normalize_email
from apps.users.services.common import (
    email_taken,
    guard_keeps_admins,
    guard_not_self,
    password_validate,
    user_create,
    user_lock,
    user_sessions_revoke,
)

STAFF_ROLES = (Role.ADMIN, Role.MANAGER, Role.CASHIER)


STAFF_FIELDS = ("email", "name", "phone", "avatar_url", "role", "is_active")


def user_snapshot(user: User, store_ids=None) -> dict:
    data = snapshot(user, STAFF_FIELDS)
    if store_ids is not None:
        data["store_ids"] = [str(store_id) for store_id in store_ids]
    return data


def _guard_manager_vs_admin(actor: User, *roles: str) -> None:
    """A MANAGER may not create, edit, promote to or deactivate an ADMIN."""
    if actor.role == Role.MANAGER and Role.ADMIN in roles:
        raise PermissionDenied("Managers cannot manage admins.")


def _staff_lock(*, actor: User, user_id: UUID) -> User:
    """A live user of the actor's company, locked (404 for anyone else)."""
    user = user_lock(user_id=user_id, tenant_id=actor.tenant_id)
    if user.deleted_at is not None:
        raise NotFound("User not found.")
    return user


def _staff_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise ValidationFailed.for_field("role", "Must be ADMIN, MANAGER or CASHIER.")
    return role


def _user_changed(user: User, event: str) -> None:
    """After a user row changed: cached copies dropped, the company told (on commit)."""
    auth_cache_drop([user.pk])
    user_changed(event, user)


def staff_create(
    *,
    actor: User,
    tenant,
    email: str,
    password: str,
    name: str,
    role: str,
    phone: str = "",
    store_ids: Iterable[UUID] = (),
) -> User:
    _guard_manager_vs_admin(actor, _staff_role(role))
    with transaction.atomic():
        plan_limit_guard(resource=PlanResource.USERS, tenant=tenant)
        user = user_create(
            email=email,
            password=password,
            name=name,
            role=role,
            tenant=tenant,
            phone=phone,
            actor=actor,
            record_audit=False,
        )
        assigned = store_assignments_set(user_id=user.pk, store_ids=store_ids)
        audit_record(
            action="user.create",
            entity_type="user",
            entity_id=user.pk,
            actor=actor,
            after=user_snapshot(user, assigned),
        )
        user_changed("user.created", user)
    return user


def staff_update(
    *,
    actor: User,
    user_id: UUID,
    email: str | Unset = UNSET,
    name: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    avatar_url: str | Unset = UNSET,
    role: str | Unset = UNSET,
    store_ids: list[UUID] | Unset = UNSET,
) -> User:
    """Edits a member of staff. Nobody changes their own role or email here (their own email
    needs their current password: PATCH /users/me); an email change ends the user's sessions."""
    changes = sent(email=email, name=name, phone=phone, avatar_url=avatar_url, role=role)
    if "role" in changes:
        _staff_role(changes["role"])
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
        if User.objects.filter(email=changes["email"]).exclude(pk=user_id).exists():
            raise email_taken("email")

    def guard(user: User, pending: dict) -> None:
        _guard_manager_vs_admin(actor, user.role, pending.get("role", user.role))
        if "role" in pending:
            guard_not_self(actor, user, "You cannot change your own role.")
        if "email" in pending:
            guard_not_self(
                actor, user, "Change your own email from your profile, with your password."
            )
        if user.role == Role.ADMIN and pending.get("role", Role.ADMIN) != Role.ADMIN:
            guard_keeps_admins(user)

    def assignments(user: User) -> tuple[dict, dict]:
        if store_ids is UNSET:
            return {}, {}
        before = sorted(map(str, store_ids_for_user(user_id=user.pk)))
        after = sorted(map(str, store_assignments_set(user_id=user.pk, store_ids=store_ids)))
        return ({"store_ids": before}, {"store_ids": after}) if before != after else ({}, {})

    def on_change(user: User, after: dict) -> None:
        if "email" in after:
            user_sessions_revoke(user=user)
        if "role" in after or "store_ids" in after:
            publish_user_access_changed(user.pk)
        _user_changed(user, "user.updated")

    return row_update(
        lock=lambda: _staff_lock(actor=actor, user_id=user_id),
        changes=changes,
        actor=actor,
        action="user.update",
        entity_type="user",
        conflict=email_taken("email"),
        guard=guard,
        related=assignments,
        on_change=on_change,
        tenant=actor.tenant,
    )


def user_state_set(
    *,
    actor: User,
    user_id: UUID,
    tenant_id: UUID | Unset | None,
    changes: dict,
    action: str,
    event: str,
    guard=None,
    revoke: bool = False,
    reason: str = "",
) -> User:
    """Activation-state changes (deactivate, restore, delete, undelete): one locked row, one audit
    row (with the console's `reason`), and — when the user is taken out of service — every
    session ended."""

    def on_change(user: User, _after: dict) -> None:
        if revoke:
            user_sessions_revoke(user=user)
        publish_user_access_changed(user.pk)
        _user_changed(user, event)

    def lock() -> User:
        return user_lock(user_id=user_id, tenant_id=tenant_id)

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action=action,
        entity_type="user",
        guard=guard,
        on_change=on_change,
        tenant=lambda user: user.tenant,  # loaded by user_lock
        reason=reason,
    )


def _tenant_scope(actor: User) -> UUID | Unset | None:
    """Company staff act on their own company only; a super admin on any user."""
    return UNSET if actor.role == Role.SUPER_ADMIN else actor.tenant_id


def staff_deactivate(*, actor: User, user_id: UUID, reason: str = "") -> User:
    def guard(user: User, pending: dict) -> None:
        if user.deleted_at is not None and actor.role != Role.SUPER_ADMIN:
            raise NotFound("User not found.")
        _guard_manager_vs_admin(actor, user.role)
        guard_not_self(actor, user, "You cannot deactivate yourself.")
        if pending:
            guard_keeps_admins(user)

    return user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=_tenant_scope(actor),
        changes={"is_active": False},
        action="user.deactivate",
        event="user.deactivated",
        guard=guard,
        revoke=True,
        reason=reason,
    )


def guard_plan_users(user: User, pending: dict) -> None:
    """A user put back into service counts against the company's plan like a new one."""

    if user.tenant_id is not None and pending and not (user.is_active and user.deleted_at is None):
        plan_limit_guard(resource=PlanResource.USERS, tenant=user.tenant)


def staff_restore(*, actor: User, user_id: UUID, reason: str = "") -> User:
    def guard(user: User, pending: dict) -> None:
        if user.deleted_at is not None:
            raise NotFound("User not found.")
        _guard_manager_vs_admin(actor, user.role)
        guard_plan_users(user, pending)

    return user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=_tenant_scope(actor),
        changes={"is_active": True},
        action="user.restore",
        event="user.restored",
        guard=guard,
        reason=reason,
    )


def password_reset(*, actor: User, user_id: UUID, new_password: str, reason: str = "") -> User:
    """Sets another user's password on their behalf and ends every session they have. Nobody
    resets their own password here: that needs the current one (change-password)."""
    with transaction.atomic():
        user = user_lock(user_id=user_id, tenant_id=_tenant_scope(actor))
        if actor.role != Role.SUPER_ADMIN:
            if user.deleted_at is not None:
                raise NotFound("User not found.")
            _guard_manager_vs_admin(actor, user.role)
        guard_not_self(actor, user, "Change your own password with your current password.")
        password_validate(password=new_password, user=user, field="newPassword")
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        user_sessions_revoke(user=user)
        audit_record(
            action="user.reset_password",
            entity_type="user",
            entity_id=user.pk,
            actor=actor,
            tenant=user.tenant,
            reason=reason,
        )
    return user


def profile_update(
    *,
    actor: User,
    name: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    avatar_url: str | Unset = UNSET,
    email: str | Unset = UNSET,
    current_password: str | Unset = UNSET,
) -> User:
    """A user's own name, phone, avatar and email; never role, tenant or active flag. The email
    needs the current password and ends every session (like a password change)."""
    user_id = actor.pk  # only the id of the request's user: the row itself is read fresh
    changes = sent(name=name, phone=phone, avatar_url=avatar_url, email=email)
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
        if User.objects.filter(email=changes["email"]).exclude(pk=user_id).exists():
            raise email_taken("email")

    def guard(user: User, pending: dict) -> None:
        if "email" not in pending:
            return
        if current_password is UNSET:
            raise ValidationFailed.for_field(
                "currentPassword", "Required to change the email address."
            )
        if not user.check_password(current_password):
            raise ValidationFailed.for_field("currentPassword", "Current password is incorrect.")

    def on_change(user: User, after: dict) -> None:
        if "email" in after:
            user_sessions_revoke(user=user)
        _user_changed(user, "user.updated")

    return row_update(
        lock=lambda: user_lock(user_id=user_id),
        changes=changes,
        actor=actor,
        action="user.update_profile",
        entity_type="user",
        conflict=email_taken("email"),
        guard=guard,
        on_change=on_change,
        tenant=lambda user: user.tenant,  # loaded by user_lock
    )
