"""Sessions: login, refresh-token rotation (a reused token revokes every session of its user),
logout (one session or all), and a password change, which ends every session and opens a new
one for the caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.audit.services import audit_record
from apps.core.errors import AuthenticationRequired, ErrorCode, PermissionDenied, ValidationFailed
from apps.users.cache import auth_cache_drop
from apps.users.models import RefreshTokenRotation, User, normalize_email
from apps.users.services.common import (
    dummy_hash,
    password_validate,
    user_lock,
    user_sessions_revoke,
)
from apps.users.throttling import login_attempt_check, login_failure_record, login_failures_clear
from apps.users.tokens import TokenPair, token_pair_issue


@dataclass(frozen=True)
class Session:
    user: User
    tokens: TokenPair | None  # None: the caller asked for none (the console's own session)


def _credentials_check(*, email: str, password: str, ip: str | None, console: bool) -> User:
    """The user these credentials sign in, within the per-IP and per-account failure budget
    (apps.users.throttling); every refusal counts against it. The console admits only super
    admins: a company user's attempt there is refused and counted like a wrong password, so the
    console is no second door (nor an oracle) for the API's accounts."""
    email = normalize_email(email)
    login_attempt_check(ip=ip, email=email)
    user = User.objects.select_related("tenant").filter(email=email).first()
    if user is None:
        User(password=dummy_hash()).check_password(password)
    if (
        user is None
        or not user.check_password(password)
        or not user.can_sign_in
        or (console and not user.is_super_admin)
    ):
        login_failure_record(ip=ip, email=email)
        raise AuthenticationRequired(
            "Invalid email or password.", code=ErrorCode.INVALID_CREDENTIALS
        )
    return user


def session_login(*, email: str, password: str, ip: str | None) -> Session:
    user = _credentials_check(email=email, password=password, ip=ip, console=False)
    if user.tenant_id and user.tenant.is_suspended:
        raise PermissionDenied(
            "This company's account is suspended.", code=ErrorCode.TENANT_SUSPENDED
        )
    login_failures_clear(email=user.email)
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


def console_session_login(*, email: str, password: str, ip: str | None) -> User:
    """The platform console's sign-in (Django's session, no tokens): active super admins only,
    with the API login's failure budget and lockout (a failure here counts there and vice
    versa) and its audit row, marked as the console's."""
    user = _credentials_check(email=email, password=password, ip=ip, console=True)
    login_failures_clear(email=user.email)
    with transaction.atomic():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        auth_cache_drop([user.pk])
        audit_record(
            action="auth.login",
            entity_type="user",
            entity_id=user.pk,
            actor=user,
            after={"channel": "console"},
        )
    return user


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


def session_logout_all(*, user: User, actor: User | None = None, reason: str = "") -> None:
    """Ends every session of `user` (refresh tokens, access tokens, console sessions). `actor`:
    a platform operator forcing the logout (the console), else the user themselves."""
    with transaction.atomic():
        user_sessions_revoke(user=user)
        audit_record(
            action="auth.logout_all",
            entity_type="user",
            entity_id=user.pk,
            actor=actor or user,
            # an operator acts from the public schema; the user themselves, from their company's
            tenant=user.tenant if actor is not None else None,
            reason=reason,
        )


def password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    ip: str | None = None,
    issue_tokens: bool = True,
) -> Session:
    """Changes the password, revokes every session and opens a new one for the caller (no token
    pair with `issue_tokens=False`: the console keeps its own session). The check runs on the row
    read fresh and locked (the request's user may be a cached copy). A wrong current password
    counts against the login's failure budget, and a spent budget refuses (429) before any
    check: a signed-in session left open is no way to guess the password."""
    login_attempt_check(ip=ip, email=user.email)
    with transaction.atomic():
        user = user_lock(user_id=user.pk)
        if not user.check_password(current_password):
            login_failure_record(ip=ip, email=user.email)
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
        tokens = token_pair_issue(user=user) if issue_tokens else None
    return Session(user=user, tokens=tokens)
