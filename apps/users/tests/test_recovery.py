"""Account recovery: `forgot-password` answers the same for every address and e-mails a
one-time, 30-minute token (stored hashed) off the request path; `reset-password` sets the
password once and ends every session and access token; refusals change nothing."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import override_settings
from django.utils import timezone

from apps.audit.models import AuditLog
from apps.core.mail import mail_sent_wait
from apps.users.models import PasswordResetToken, User
from apps.users.tests.test_auth import login, me_status, refresh, tokens

pytestmark = pytest.mark.django_db

FORGOT = "/api/auth/forgot-password"
RESET = "/api/auth/reset-password"
NEW = "Recovered-horse-45"


def forgot(client, email: str, capture):
    with capture(execute=True):
        response = client.post(FORGOT, {"email": email}, format="json")
    mail_sent_wait()
    return response


def mailed_token() -> str:
    (message,) = mail.outbox
    return re.search(r"token=([\w-]+)", message.body).group(1)


def reset(client, token: str, password: str = NEW):
    return client.post(RESET, {"token": token, "newPassword": password}, format="json")


def password_of(user) -> str:
    return User.objects.get(pk=user.pk).password


def test_a_known_and_an_unknown_address_get_the_same_answer(
    client, world_a, django_capture_on_commit_callbacks
):
    unknown = forgot(client, "nobody@acme.test", django_capture_on_commit_callbacks)
    assert mail.outbox == [] and PasswordResetToken.objects.count() == 0
    known = forgot(client, "Manager@Acme.test", django_capture_on_commit_callbacks)

    assert (unknown.status_code, known.status_code) == (200, 200)
    assert unknown.json() == known.json()
    assert known.json()["data"]["message"].startswith("If an account uses this address")
    (message,) = mail.outbox
    assert message.to == [world_a.manager.email]
    token = mailed_token()
    stored = PasswordResetToken.objects.get()
    assert stored.user_id == world_a.manager.pk
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # never the token
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)
    assert AuditLog.objects.filter(
        action="auth.password_reset_request", entity_id=str(world_a.manager.pk)
    ).count() == 1  # fmt: skip


def test_a_deactivated_account_gets_no_mail(client, world_a, django_capture_on_commit_callbacks):
    User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
    response = forgot(client, world_a.cashier.email, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert mail.outbox == [] and PasswordResetToken.objects.count() == 0


def test_the_token_works_once_and_ends_every_session(
    client, world_a, django_capture_on_commit_callbacks
):
    user = world_a.manager
    access, refresh_token = tokens(client, user.email)
    forgot(client, user.email, django_capture_on_commit_callbacks)
    token = mailed_token()

    response = reset(client, token)
    assert response.status_code == 200, response.content
    assert me_status(client, access) == 401
    assert refresh(client, refresh_token).status_code == 401
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, NEW).status_code == 200
    assert PasswordResetToken.objects.get().used_at is not None
    assert (
        AuditLog.objects.filter(action="auth.password_reset", entity_id=str(user.pk)).count() == 1
    )

    changed = password_of(user)
    again = reset(client, token, "Yet-another-horse-46")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "TOKEN_INVALID"
    assert again.json()["error"]["details"][0]["field"] == "token"
    assert password_of(user) == changed


def test_the_token_expires_after_30_minutes(client, world_a, django_capture_on_commit_callbacks):
    user = world_a.manager
    forgot(client, user.email, django_capture_on_commit_callbacks)
    token, before = mailed_token(), password_of(user)
    with time_machine.travel(timezone.now() + timedelta(minutes=30, seconds=1)):
        response = reset(client, token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_INVALID"
    assert password_of(user) == before
    assert PasswordResetToken.objects.get().used_at is None
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert reset(client, token).status_code == 200


def test_a_password_change_since_refuses_the_token(
    client, world_a, django_capture_on_commit_callbacks
):
    from conftest import PASSWORD

    user = world_a.manager
    forgot(client, user.email, django_capture_on_commit_callbacks)
    token = mailed_token()
    access, _ = tokens(client, user.email)
    changed = client.patch(
        "/api/auth/change-password",
        {"currentPassword": PASSWORD, "newPassword": "Changed-horse-47"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert changed.status_code == 200
    before = password_of(user)
    response = reset(client, token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_INVALID"
    assert password_of(user) == before


def test_a_weak_password_is_refused_and_the_token_kept(
    client, world_a, django_capture_on_commit_callbacks
):
    user = world_a.manager
    access, _ = tokens(client, user.email)
    forgot(client, user.email, django_capture_on_commit_callbacks)
    token, before = mailed_token(), password_of(user)
    response = reset(client, token, "123")
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} == {"newPassword"}
    assert password_of(user) == before
    assert me_status(client, access) == 200  # nothing was revoked
    assert PasswordResetToken.objects.get().used_at is None
    assert reset(client, token).status_code == 200


def test_an_unknown_token_is_refused(client, world_a):
    response = reset(client, "made-up-token")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_INVALID"


@override_settings(PASSWORD_RECOVERY_PER_EMAIL=3, PASSWORD_RECOVERY_PER_IP=100)
@pytest.mark.parametrize("email", ["manager@acme.test", "nobody@acme.test"])
def test_the_limit_per_address_is_the_same_for_unknown_ones(
    client, world_a, email, django_capture_on_commit_callbacks
):
    answers = [forgot(client, email, django_capture_on_commit_callbacks) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["code"] == "RATE_LIMITED"
    assert int(answers[3]["Retry-After"]) > 0
    assert len(mail.outbox) == (3 if email.startswith("manager") else 0)


class HeldBackend(EmailBackend):
    """A mail server that answers only when the test lets it."""

    release = threading.Event()

    def send_messages(self, messages):
        assert self.release.wait(10)
        return super().send_messages(messages)


@override_settings(EMAIL_BACKEND=f"{__name__}.HeldBackend")
def test_a_slow_mail_server_does_not_hold_the_response(
    client, world_a, django_capture_on_commit_callbacks
):
    """The e-mail leaves after the response: its time cannot tell a known address."""
    HeldBackend.release.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FORGOT, {"email": world_a.manager.email}, format="json")
    assert response.status_code == 200
    assert mail.outbox == []  # answered while the server still holds the message
    HeldBackend.release.set()
    mail_sent_wait()
    assert [m.to for m in mail.outbox] == [[world_a.manager.email]]
