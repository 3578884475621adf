"""The approval PIN (apps.sales.approval): a user sets their own PIN, and `approver_verify` checks
the credentials an approver types at the till (email and password, or user id and PIN), with
every refusal counted against that approver."""

from __future__ import annotations

import itertools
import re
from uuid import UUID

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import ValidationFailed
from apps.users.models import User, normalize_email
from apps.users.services.common import dummy_hash, sha256, user_lock
from apps.users.throttling import (
    approval_attempt_check,
    approval_failure_record,
    approval_failures_clear,
)

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
            action="user.pin_set",
            entity_type="user",
            entity_id=user.pk,
            actor=user,
            tenant=user.tenant,
        )
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
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
        approver, secret, stored = str(user_id), pin, user.pin_hash if user else ""
    else:
        email = normalize_email(email)
        user = User.objects.filter(email=email).first()
        # one budget per approver, whichever way they are named
        approver = str(user.pk) if user else f"email:{sha256(email)[:32]}"
        secret, stored = password, user.password if user else ""
    approval_attempt_check(tenant_id=tenant_id, approver=approver)
    usable = user is not None and user.tenant_id == tenant_id and user.can_sign_in and bool(stored)
    if not usable:
        check_password(secret, dummy_hash())
    if not usable or not check_password(secret, stored):
        approval_failure_record(tenant_id=tenant_id, approver=approver)
        return None
    approval_failures_clear(tenant_id=tenant_id, approver=approver)
    return user
