"""Writes for identity: users, sessions (login, refresh, logout) and passwords."""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tenants.utils import get_tenant_model
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.audit.models import AuditLog
from apps.audit.services import audit_record
from apps.core.db import UNSET, Unset, fields_save, row_update, rows_lock, sent, snapshot
from apps.core.errors import (
    ApplicationError,
    AuthenticationRequired,
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.events import publish_sessions_revoked, publish_user_access_changed
from apps.core.mail import mail_send_later
from apps.core.plans import PlanResource, plan_limit_guard
from apps.core.roles import Role
from apps.stores.models import StoreAssignment
from apps.stores.selectors import store_ids_for_user
from apps.stores.services import store_assignments_set
from apps.users.cache import auth_cache_drop
from apps.users.events import user_changed
from apps.users.models import PasswordResetToken, RefreshTokenRotation, User, normalize_email
from apps.users.throttling import (
    approval_attempt_check,
    approval_failure_record,
    approval_failures_clear,
    login_attempt_check,
    login_failure_record,
    login_failures_clear,
    password_recovery_take,
)
from apps.users.tokens import TokenPair, refresh_tokens_blacklist_all, token_pair_issue

# Hashing a dummy password when the account does not exist keeps the response time the same.
_DUMMY_HASH = None


@dataclass(frozen=True)
class Session:
    user: User
    tokens: TokenPair


def password_validate(*, password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "Password is not acceptable.",
            details=[{"field": field, "message": message} for message in exc.messages],
        ) from None


def _email_taken(field: str) -> Conflict:
    return Conflict(
        "A user with this email already exists.",
        details=[{"field": field, "message": "Already in use."}],
    )


def user_create(
    *,
    email: str,
    password: str,
    name: str,
    role: str,
    tenant=None,
    phone: str = "",
    actor: User | None = None,
    email_field: str = "email",
    password_field: str = "password",
    record_audit: bool = True,
) -> User:
    """Creates a user. `record_audit=False` when the caller's own audit row covers it (a company
    created with its owner is one write, one row)."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise _email_taken(email_field)
    candidate = User(email=email, name=name, role=role, tenant=tenant)
    password_validate(password=password, user=candidate, field=password_field)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, name=name, role=role, tenant=tenant, phone=phone
                )
        except IntegrityError:
            raise _email_taken(email_field) from None
        if record_audit:
            audit_record(
                action="user.create",
                entity_type="user",
                entity_id=user.pk,
                actor=actor,
                tenant=tenant,
                after={"email": user.email, "name": user.name, "role": user.role},
            )
    return user


def user_sessions_revoke(*, user: User) -> None:
    """Ends every session: refresh tokens blacklisted, and the token version bumped so that every
    access token issued before is refused too. Call inside the caller's transaction."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    refresh_tokens_blacklist_all(user=user)
    auth_cache_drop([user.pk])
    publish_sessions_revoked(user.pk)


def session_login(*, email: str, password: str, ip: str | None) -> Session:
    global _DUMMY_HASH
    email = normalize_email(email)
    login_attempt_check(ip=ip, email=email)
    user = User.objects.select_related("tenant").filter(email=email).first()
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or make_password("dummy-password-for-timing")
        User(password=_DUMMY_HASH).check_password(password)
    if user is None or not user.check_password(password) or not user.can_sign_in:
        login_failure_record(ip=ip, email=email)
        raise AuthenticationRequired(
            "Invalid email or password.", code=ErrorCode.INVALID_CREDENTIALS
        )
    if user.tenant_id and user.tenant.is_suspended:
        raise PermissionDenied(
            "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
        )
    login_failures_clear(email=email)
    with transaction.atomic():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        auth_cache_drop([user.pk])
        tokens = token_pair_issue(user=user)
        audit_record(
            action="auth.login",
            entity_type="user",
            entity_id=user.pk,
            actor=user,
            tenant=user.tenant,
        )
    return Session(user=user, tokens=tokens)


def _decode_refresh(raw: str) -> dict:
    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendError:
        raise AuthenticationRequired(
            "Refresh token is invalid or expired.", code=ErrorCode.TOKEN_INVALID
        ) from None
    if payload.get("token_type") != "refresh" or not payload.get("jti"):
        raise AuthenticationRequired("Not a refresh token.", code=ErrorCode.TOKEN_INVALID)
    return payload


def session_refresh(*, refresh_token: str) -> Session:
    """Rotates a refresh token. Presenting one that was already rotated or revoked is treated as
    theft: every session of that user is revoked."""
    payload = _decode_refresh(refresh_token)
    reuse_detected = False
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update(of=("self",))
            .select_related("user", "user__tenant")
            .filter(jti=payload["jti"])
            .first()
        )
        if outstanding is None or outstanding.user is None:
            raise AuthenticationRequired(
                "Refresh token is not recognised.", code=ErrorCode.TOKEN_INVALID
            )
        user = outstanding.user
        if BlacklistedToken.objects.filter(token=outstanding).exists():
            if not RefreshTokenRotation.objects.filter(token=outstanding).exists():
                raise AuthenticationRequired(
                    "Session has been revoked.", code=ErrorCode.TOKEN_INVALID
                )
            if payload.get("tv") == user.token_version:
                user_sessions_revoke(user=user)
                audit_record(
                    action="auth.refresh_reuse",
                    entity_type="user",
                    entity_id=user.pk,
                    actor=user,
                    tenant=user.tenant,
                )
            reuse_detected = True
        elif not user.can_sign_in or payload.get("tv") != user.token_version:
            raise AuthenticationRequired("Session has been revoked.", code=ErrorCode.TOKEN_INVALID)
        elif user.tenant_id and user.tenant.is_suspended:
            raise PermissionDenied(
                "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
            )
        else:
            BlacklistedToken.objects.create(token=outstanding)
            RefreshTokenRotation.objects.create(token=outstanding)
            tokens = token_pair_issue(user=user, rotated_from=payload)  # keeps its authAt
            audit_record(
                action="auth.refresh",
                entity_type="user",
                entity_id=user.pk,
                actor=user,
                tenant=user.tenant,
            )
    if reuse_detected:
        raise AuthenticationRequired(
            "Refresh token was already used; all sessions have been revoked.",
            code=ErrorCode.TOKEN_INVALID,
        )
    return Session(user=user, tokens=tokens)


def session_logout(*, user: User, refresh_token: str) -> None:
    """Revokes the presented refresh token (it must be the caller's own)."""
    payload = _decode_refresh(refresh_token)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.filter(jti=payload["jti"], user=user).first()
        if outstanding is None:
            raise ValidationFailed.for_field("refreshToken", "Not a session of this user.")
        BlacklistedToken.objects.get_or_create(token=outstanding)
        audit_record(action="auth.logout", entity_type="user", entity_id=user.pk, actor=user)


def session_logout_all(*, user: User) -> None:
    with transaction.atomic():
        user_sessions_revoke(user=user)
        audit_record(action="auth.logout_all", entity_type="user", entity_id=user.pk, actor=user)


def password_change(*, user: User, current_password: str, new_password: str) -> Session:
    """Changes the password, revokes every session and opens a new one for the caller. The check
    runs on the row read fresh and locked (the request's user may be a cached copy)."""
    with transaction.atomic():
        user = user_lock(user_id=user.pk)
        if not user.check_password(current_password):
            raise ValidationFailed.for_field("currentPassword", "Current password is incorrect.")
        if current_password == new_password:
            raise ValidationFailed.for_field(
                "newPassword", "Must differ from the current password."
            )
        password_validate(password=new_password, user=user, field="newPassword")
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        user_sessions_revoke(user=user)
        audit_record(
            action="auth.change_password", entity_type="user", entity_id=user.pk, actor=user
        )
        tokens = token_pair_issue(user=user)
    return Session(user=user, tokens=tokens)


# --- the approval PIN (apps.sales.approval) ----------------------------------------------------

PIN_DIGITS = re.compile(r"[0-9]{4,8}")


def _pin_guessable(pin: str) -> bool:
    """One digit repeated or a run up or down (0000, 1234, 9876): the first PINs anyone tries,
    and a thief gets five tries per window (apps.users.throttling)."""
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def pin_set(*, user: User, pin: str, current_password: str) -> User:
    """Sets the caller's approval PIN: 4 to 8 digits, not trivially guessable, stored hashed
    like a password. It needs the current password, like every change of a credential."""
    if not PIN_DIGITS.fullmatch(pin):
        raise ValidationFailed.for_field("pin", "4 to 8 digits.")
    if _pin_guessable(pin):
        raise ValidationFailed.for_field(
            "pin", "Too easy to guess: not one digit repeated, nor a run such as 1234."
        )
    with transaction.atomic():
        user = user_lock(user_id=user.pk)
        if not user.check_password(current_password):
            raise ValidationFailed.for_field("currentPassword", "Current password is incorrect.")
        user.pin_hash = make_password(pin)
        user.save(update_fields=["pin_hash", "updated_at"])
        audit_record(
            action="user.pin_set", entity_type="user", entity_id=user.pk, actor=user,
            tenant=user.tenant,
        )  # fmt: skip
    return user


def approver_verify(
    *,
    tenant_id: UUID,
    email: str = "",
    password: str = "",
    user_id: UUID | None = None,
    pin: str = "",
) -> User | None:
    """The active user of company `tenant_id` these credentials name (email and password, or
    user id and PIN), else None. Every refusal counts against that approver (per company), and
    past the limit this answers 429 instead, even to the right secret. A user of another
    company, an inactive one, or one without a PIN is refused without their secret being
    checked (a dummy hash is checked instead, so the answer takes the same time)."""
    global _DUMMY_HASH
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
        approver, secret, stored = str(user_id), pin, user.pin_hash if user else ""
    else:
        email = normalize_email(email)
        user = User.objects.filter(email=email).first()
        # one budget per approver, whichever way they are named
        approver = str(user.pk) if user else f"email:{_sha256(email)[:32]}"
        secret, stored = password, user.password if user else ""
    approval_attempt_check(tenant_id=tenant_id, approver=approver)
    usable = user is not None and user.tenant_id == tenant_id and user.can_sign_in and bool(stored)
    if not usable:
        _DUMMY_HASH = _DUMMY_HASH or make_password("dummy-password-for-timing")
        check_password(secret, _DUMMY_HASH)
    if not usable or not check_password(secret, stored):
        approval_failure_record(tenant_id=tenant_id, approver=approver)
        return None
    approval_failures_clear(tenant_id=tenant_id, approver=approver)
    return user


# --- account recovery (forgot / reset password) ------------------------------------------------


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def password_reset_token_issue(*, user: User) -> str:
    """A new reset token of `user` (stored as its hash, with the stamp of the current
    password), valid `PASSWORD_RESET_TOKEN_MINUTES`; returns the token itself."""
    token, now = secrets.token_urlsafe(32), timezone.now()
    PasswordResetToken.objects.create(
        user=user,
        token_hash=_sha256(token),
        password_stamp=_sha256(user.password),
        created_at=now,
        expires_at=now + timedelta(minutes=django_settings.PASSWORD_RESET_TOKEN_MINUTES),
    )
    return token


def password_recovery_request(*, email: str, ip: str | None) -> None:
    """`forgot-password`: when an account that can sign in has `email`, a one-time token is
    stored (hashed) and e-mailed after the commit, off the request path. Whether or not one
    exists, the caller answers the same; the rate limit counts both alike."""
    email = normalize_email(email)
    password_recovery_take(ip=ip, email=email)
    user = User.objects.select_related("tenant").filter(email=email).first()
    if user is None or not user.can_sign_in or not user.has_usable_password():
        return
    minutes = django_settings.PASSWORD_RESET_TOKEN_MINUTES
    with transaction.atomic():
        token = password_reset_token_issue(user=user)
        audit_record(
            action="auth.password_reset_request", entity_type="user", entity_id=user.pk,
            actor=user, tenant=user.tenant,
        )  # fmt: skip
        custom = django_settings.PASSWORD_RESET_URL  # a reset page of the operator's own
        link = (
            custom.format(token=token)
            if custom
            else f"{django_settings.PUBLIC_URL}/reset-password?token={token}"
        )
        mail_send_later(
            EmailMessage(
                subject="Reset your MIPOS password",
                body=(
                    f"Hello {user.name},\n\nSomeone asked to reset the password of your MIPOS"
                    f" account. To choose a new one, open this link within {minutes} minutes:\n\n"
                    f"{link}\n\nor send this token to POST /api/auth/reset-password:\n{token}\n\n"
                    "It works once. If you did not ask for it, ignore this message: your"
                    " password stays as it is.\n"
                ),
                from_email=django_settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            )
        )


def password_recovery_complete(*, token: str, new_password: str) -> None:
    """`reset-password`: sets the password of the token's user and ends every session and
    access token. The token is used up in the same transaction; it is refused when unknown,
    used, expired, or when the password changed since it was issued."""
    refused = ApplicationError(
        "This reset link is invalid or has expired. Ask for a new one.",
        code=ErrorCode.TOKEN_INVALID,
        details=[{"field": "token", "message": "Invalid, used or expired."}],
    )
    with transaction.atomic():
        found = (
            PasswordResetToken.objects.select_for_update()
            .filter(token_hash=_sha256(token), used_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if found is None or found.expires_at <= now:
            raise refused
        user = user_lock(user_id=found.user_id)
        if not user.can_sign_in or found.password_stamp != _sha256(user.password):
            raise refused
        password_validate(password=new_password, user=user, field="newPassword")
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        PasswordResetToken.objects.filter(pk=found.pk).update(used_at=now)
        user_sessions_revoke(user=user)
        login_failures_clear(email=user.email)
        audit_record(
            action="auth.password_reset", entity_type="user", entity_id=user.pk, actor=user,
            tenant=user.tenant,
        )  # fmt: skip


def super_admin_ensure(*, email: str, password: str, name: str = "Platform admin") -> User:
    """Idempotent: the platform operator account used by the demo set-up."""
    existing = User.objects.filter(email=normalize_email(email)).first()
    if existing is not None:
        return existing
    return user_create(email=email, password=password, name=name, role=Role.SUPER_ADMIN)


# --- staff management (ADMIN/MANAGER of a company) ---------------------------------------------

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


def _guard_not_self(actor: User, target: User, message: str) -> None:
    if actor.pk == target.pk:
        raise BusinessRuleViolation(message, code=ErrorCode.SELF_CHANGE_FORBIDDEN)


def user_lock(*, user_id: UUID, tenant_id: UUID | Unset | None = UNSET) -> User:
    """The user `user_id`, read fresh and locked, after — in one primary-key order — every row the
    last-admin rules count: the company's admins (or the platform's super admins). Every writer of
    a user takes this path, so two of them (two admins demoting each other, two super admins
    deleting each other) wait for each other instead of deadlocking or both passing.

    `tenant_id` (when given) is the company the user must belong to: otherwise 404."""
    target = User.objects.filter(pk=user_id).values("tenant_id").first()
    if target is None:
        raise NotFound("User not found.")
    target_tenant = target["tenant_id"]  # never changes: safe to read before the lock
    if tenant_id is not UNSET and target_tenant != tenant_id:
        raise NotFound("User not found.")
    counted = (
        Q(tenant_id=target_tenant, role=Role.ADMIN) if target_tenant else Q(role=Role.SUPER_ADMIN)
    )
    rows = {row.pk: row for row in rows_lock(User.objects.filter(counted | Q(pk=user_id)))}
    user = rows.get(user_id)
    if user is None:  # deleted since the first read
        raise NotFound("User not found.")
    user.tenant = (
        get_tenant_model().objects.filter(pk=user.tenant_id).first() if user.tenant_id else None
    )
    return user


def _staff_lock(*, actor: User, user_id: UUID) -> User:
    """A live user of the actor's company, locked (404 for anyone else)."""
    user = user_lock(user_id=user_id, tenant_id=actor.tenant_id)
    if user.deleted_at is not None:
        raise NotFound("User not found.")
    return user


def _guard_keeps_an_admin(target: User) -> None:
    """The last active ADMIN of a company cannot stop being one (rows locked by `user_lock`)."""
    admins = list(
        User.objects.filter(
            tenant_id=target.tenant_id, role=Role.ADMIN, is_active=True, deleted_at=None
        ).values_list("pk", flat=True)
    )
    if admins == [target.pk]:
        raise BusinessRuleViolation(
            "A company must keep at least one active admin.", code=ErrorCode.LAST_ADMIN
        )


def _guard_keeps_a_super_admin(target: User) -> None:
    """The platform keeps at least one active super admin (rows locked by `user_lock`)."""
    if target.role != Role.SUPER_ADMIN:
        return
    others = User.objects.filter(role=Role.SUPER_ADMIN, is_active=True, deleted_at=None).exclude(
        pk=target.pk
    )
    if not others.exists():
        raise BusinessRuleViolation(
            "The platform must keep at least one active super admin.", code=ErrorCode.LAST_ADMIN
        )


def _guard_keeps_admins(user: User) -> None:
    """Taking `user` out of service must leave their company an admin and the platform a super
    admin."""
    if user.role == Role.ADMIN and user.is_active and user.deleted_at is None:
        _guard_keeps_an_admin(user)
    if user.is_active and user.deleted_at is None:
        _guard_keeps_a_super_admin(user)


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
            raise _email_taken("email")

    def guard(user: User, pending: dict) -> None:
        _guard_manager_vs_admin(actor, user.role, pending.get("role", user.role))
        if "role" in pending:
            _guard_not_self(actor, user, "You cannot change your own role.")
        if "email" in pending:
            _guard_not_self(
                actor, user, "Change your own email from your profile, with your password."
            )
        if user.role == Role.ADMIN and pending.get("role", Role.ADMIN) != Role.ADMIN:
            _guard_keeps_admins(user)

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
        conflict=_email_taken("email"),
        guard=guard,
        related=assignments,
        on_change=on_change,
        tenant=actor.tenant,
    )


def _user_state_set(
    *,
    actor: User,
    user_id: UUID,
    tenant_id: UUID | Unset | None,
    changes: dict,
    action: str,
    event: str,
    guard=None,
    revoke: bool = False,
) -> User:
    """Activation-state changes (deactivate, restore, delete, undelete): one locked row, one audit
    row, and — when the user is taken out of service — every session ended."""

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
    )


def _tenant_scope(actor: User) -> UUID | Unset | None:
    """Company staff act on their own company only; a super admin on any user."""
    return UNSET if actor.role == Role.SUPER_ADMIN else actor.tenant_id


def staff_deactivate(*, actor: User, user_id: UUID) -> User:
    def guard(user: User, pending: dict) -> None:
        if user.deleted_at is not None and actor.role != Role.SUPER_ADMIN:
            raise NotFound("User not found.")
        _guard_manager_vs_admin(actor, user.role)
        _guard_not_self(actor, user, "You cannot deactivate yourself.")
        if pending:
            _guard_keeps_admins(user)

    return _user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=_tenant_scope(actor),
        changes={"is_active": False},
        action="user.deactivate",
        event="user.deactivated",
        guard=guard,
        revoke=True,
    )


def _guard_plan_users(user: User, pending: dict) -> None:
    """A user put back into service counts against the company's plan like a new one."""

    if user.tenant_id is not None and pending and not (user.is_active and user.deleted_at is None):
        plan_limit_guard(resource=PlanResource.USERS, tenant=user.tenant)


def staff_restore(*, actor: User, user_id: UUID) -> User:
    def guard(user: User, pending: dict) -> None:
        if user.deleted_at is not None:
            raise NotFound("User not found.")
        _guard_manager_vs_admin(actor, user.role)
        _guard_plan_users(user, pending)

    return _user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=_tenant_scope(actor),
        changes={"is_active": True},
        action="user.restore",
        event="user.restored",
        guard=guard,
    )


def password_reset(*, actor: User, user_id: UUID, new_password: str) -> User:
    """Sets another user's password on their behalf and ends every session they have. Nobody
    resets their own password here: that needs the current one (change-password)."""
    with transaction.atomic():
        user = user_lock(user_id=user_id, tenant_id=_tenant_scope(actor))
        if actor.role != Role.SUPER_ADMIN:
            if user.deleted_at is not None:
                raise NotFound("User not found.")
            _guard_manager_vs_admin(actor, user.role)
        _guard_not_self(actor, user, "Change your own password with your current password.")
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
            raise _email_taken("email")

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
        conflict=_email_taken("email"),
        guard=guard,
        on_change=on_change,
        tenant=lambda user: user.tenant,  # loaded by user_lock
    )


# --- platform user management (SUPER_ADMIN) ----------------------------------------------------


def super_admin_create(*, actor: User, email: str, password: str, name: str) -> User:
    return user_create(
        email=email, password=password, name=name, role=Role.SUPER_ADMIN, actor=actor
    )


def user_soft_delete(*, actor: User, user_id: UUID) -> User:
    """Removes a user from their company: cannot sign in, sessions revoked, history kept."""

    def guard(user: User, pending: dict) -> None:
        _guard_not_self(actor, user, "You cannot delete yourself.")
        if pending:
            _guard_keeps_admins(user)

    user = User.objects.filter(pk=user_id).only("deleted_at").first()
    changes = {"is_active": False}
    if user is not None and user.deleted_at is None:
        changes["deleted_at"] = timezone.now()
    return _user_state_set(
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
    return _user_state_set(
        actor=actor,
        user_id=user_id,
        tenant_id=UNSET,
        changes={"deleted_at": None, "is_active": True},
        action="user.restore",
        event="user.restored",
        guard=_guard_plan_users,
    )


def user_hard_delete(*, actor: User, user_id: UUID, anonymise: bool = False) -> dict:
    """Deletes a user row. A user who has acted (audit rows name them) keeps their row for the
    trail: refused with 422 unless `anonymise`, which strips every personal field instead."""
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        _guard_not_self(actor, user, "You cannot delete yourself.")
        has_history = AuditLog.objects.filter(actor_id=user.pk).exists()
        if has_history and not anonymise:
            raise BusinessRuleViolation(
                "This user has a history (audit trail); delete with anonymise=true instead.",
                code=ErrorCode.USER_HAS_HISTORY,
            )
        _guard_keeps_admins(user)
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
