"""Account recovery: `forgot-password` stores a one-time reset token (hashed) and e-mails it after
the commit; `reset-password` uses it up, sets the password and ends every session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError, BusinessRuleViolation, ErrorCode
from apps.core.mail import mail_send_later
from apps.users.models import PasswordResetToken, User, normalize_email
from apps.users.services.common import password_validate, sha256, user_lock, user_sessions_revoke
from apps.users.throttling import login_failures_clear, password_recovery_take


def password_reset_token_issue(*, user: User, minutes: int | None = None) -> str:
    """A new reset token of `user` (stored as its hash, with the stamp of the current
    password), valid `minutes` (default `PASSWORD_RESET_TOKEN_MINUTES`); returns the token."""
    minutes = minutes or django_settings.PASSWORD_RESET_TOKEN_MINUTES
    token, now = secrets.token_urlsafe(32), timezone.now()
    PasswordResetToken.objects.create(
        user=user,
        token_hash=sha256(token),
        password_stamp=sha256(user.password),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
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
            action="auth.password_reset_request",
            entity_type="user",
            entity_id=user.pk,
            actor=user,
            tenant=user.tenant,
        )
        link = _reset_link(token)
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


def _reset_link(token: str) -> str:
    custom = django_settings.PASSWORD_RESET_URL  # a reset page of the operator's own
    if custom:
        return custom.format(token=token)
    return f"{django_settings.PUBLIC_URL}/reset-password?token={token}"


def user_access_link_send(*, actor: User, user_id, reason: str = "") -> str:
    """A platform operator sends a user a one-time link to set a password: an invitation
    (valid `INVITATION_HOURS`) while the account has no password yet, else a password reset
    (valid `PASSWORD_RESET_TOKEN_MINUTES`; the current password keeps working until it is
    used). E-mailed after the commit; audited with the operator and the reason. Returns the
    kind sent: "invitation" or "reset"."""
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        if not user.can_sign_in:
            raise BusinessRuleViolation(
                "This account is deactivated; restore it before sending it a link."
            )
        invitation = not user.has_usable_password()
        minutes = django_settings.INVITATION_HOURS * 60 if invitation else None
        token = password_reset_token_issue(user=user, minutes=minutes)
        kind = "invitation" if invitation else "reset"
        audit_record(
            action=f"user.{kind}_send",
            entity_type="user",
            entity_id=user.pk,
            actor=actor,
            tenant=user.tenant,
            after={"email": user.email} | ({"reason": reason} if reason else {}),
        )
        link = _reset_link(token)
        if invitation:
            company = user.tenant.name if user.tenant else "MIPOS"
            subject = f"You are invited to {company} on MIPOS"
            body = (
                f"Hello {user.name},\n\nAn account was made for you at {company} on MIPOS"
                f" ({user.email}). To choose your password, open this link within"
                f" {django_settings.INVITATION_HOURS} hours:\n\n{link}\n\nIt works once.\n"
            )
        else:
            subject = "Reset your MIPOS password"
            body = (
                f"Hello {user.name},\n\nA platform operator sent you this link to choose a new"
                f" password for your MIPOS account. Open it within"
                f" {django_settings.PASSWORD_RESET_TOKEN_MINUTES} minutes:\n\n{link}\n\nIt works"
                " once. Until then your password stays as it is.\n"
            )
        mail_send_later(
            EmailMessage(
                subject=subject,
                body=body,
                from_email=django_settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            )
        )
    return kind


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
            .filter(token_hash=sha256(token), used_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if found is None or found.expires_at <= now:
            raise refused
        user = user_lock(user_id=found.user_id)
        if not user.can_sign_in or found.password_stamp != sha256(user.password):
            raise refused
        password_validate(password=new_password, user=user, field="newPassword")
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        PasswordResetToken.objects.filter(pk=found.pk).update(used_at=now)
        user_sessions_revoke(user=user)
        login_failures_clear(email=user.email)
        audit_record(
            action="auth.password_reset",
            entity_type="user",
            entity_id=user.pk,
            actor=user,
            tenant=user.tenant,
        )
