"""What the identity writers share: creating a user row (with its password checked and its
email unique), ending every session of a user, and `user_lock` — the user read fresh and
locked with the rows the last-admin rules count — with those rules; and the timing dummy hash."""

from __future__ import annotations

import hashlib
from uuid import UUID

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django_tenants.utils import get_tenant_model

from apps.audit.services import audit_record
from apps.core.db import UNSET, Unset, rows_lock
from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, NotFound, ValidationFailed
from apps.core.events import publish_sessions_revoked
from apps.core.roles import Role
from apps.users.cache import auth_cache_drop
from apps.users.models import User, normalize_email
from apps.users.tokens import refresh_tokens_blacklist_all

# Hashing a dummy password when the account does not exist keeps the response time the same.
_DUMMY_HASH = None


def dummy_hash() -> str:
    """The dummy password's hash, made once: checked in place of a missing or unusable
    account's secret (a login, an approval)."""
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or make_password("dummy-password-for-timing")
    return _DUMMY_HASH


def password_validate(*, password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "Password is not acceptable.",
            details=[{"field": field, "message": message} for message in exc.messages],
        ) from None


def email_taken(field: str) -> Conflict:
    return Conflict(
        "A user with this email already exists.",
        details=[{"field": field, "message": "Already in use."}],
    )


def user_create(
    *,
    email: str,
    password: str | None,
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
    created with its owner is one write, one row). `password=None`: the account has none until
    it is set through an invitation link (user_access_link_send)."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise email_taken(email_field)
    candidate = User(email=email, name=name, role=role, tenant=tenant)
    if password is not None:
        password_validate(password=password, user=candidate, field=password_field)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, name=name, role=role, tenant=tenant, phone=phone
                )
        except IntegrityError:
            raise email_taken(email_field) from None
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


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def guard_not_self(actor: User, target: User, message: str) -> None:
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


def guard_keeps_admins(user: User) -> None:
    """Taking `user` out of service must leave their company an admin and the platform a super
    admin."""
    if user.role == Role.ADMIN and user.is_active and user.deleted_at is None:
        _guard_keeps_an_admin(user)
    if user.is_active and user.deleted_at is None:
        _guard_keeps_a_super_admin(user)
