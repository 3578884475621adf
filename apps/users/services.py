"""Writes for identity: users, sessions (login, refresh, logout) and passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.audit.services import audit_record
from apps.core.errors import (
    AuthenticationRequired,
    Conflict,
    ErrorCode,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.roles import Role
from apps.users.models import RefreshTokenRotation, User, normalize_email
from apps.users.throttling import (
    login_attempt_check,
    login_failure_record,
    login_failures_clear,
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
) -> User:
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(
            "A user with this email already exists.",
            details=[{"field": email_field, "message": "Already in use."}],
        )
    candidate = User(email=email, name=name, role=role, tenant=tenant)
    password_validate(password=password, user=candidate, field=password_field)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, name=name, role=role, tenant=tenant, phone=phone
                )
        except IntegrityError:
            raise Conflict(
                "A user with this email already exists.",
                details=[{"field": email_field, "message": "Already in use."}],
            ) from None
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
            tokens = token_pair_issue(user=user)
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
    """Changes the password, revokes every session and opens a new one for the caller."""
    if not user.check_password(current_password):
        raise ValidationFailed.for_field("currentPassword", "Current password is incorrect.")
    if current_password == new_password:
        raise ValidationFailed.for_field("newPassword", "Must differ from the current password.")
    password_validate(password=new_password, user=user, field="newPassword")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        user_sessions_revoke(user=user)
        audit_record(
            action="auth.change_password", entity_type="user", entity_id=user.pk, actor=user
        )
        tokens = token_pair_issue(user=user)
    return Session(user=user, tokens=tokens)


def super_admin_ensure(*, email: str, password: str, name: str = "Platform admin") -> User:
    """Idempotent: the platform operator account used by the demo set-up."""
    existing = User.objects.filter(email=normalize_email(email)).first()
    if existing is not None:
        return existing
    return user_create(email=email, password=password, name=name, role=Role.SUPER_ADMIN)
