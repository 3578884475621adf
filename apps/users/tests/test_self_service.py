"""A stolen access token alone cannot take an account over: changing one's own email or password
needs the current password; the staff endpoints refuse self-service (422), and an email change
ends every session like a password change."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.users.models import User
from conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db


def _row(user_id) -> tuple:
    user = User.objects.get(pk=user_id)
    return (user.email, user.password, user.token_version, user.is_active)


def test_admin_cannot_change_own_email_through_staff_endpoint(api, world_a):
    before, audit = _row(world_a.admin.pk), AuditLog.objects.count()
    response = api(world_a.admin).patch(
        f"/api/v1/users/{world_a.admin.pk}", {"email": "thief@evil.test"}, format="json"
    )
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["code"] == "SELF_CHANGE_FORBIDDEN"
    assert _row(world_a.admin.pk) == before
    assert AuditLog.objects.count() == audit


def test_admin_cannot_reset_own_password_through_staff_endpoint(api, world_a):
    before, audit = _row(world_a.admin.pk), AuditLog.objects.count()
    response = api(world_a.admin).post(
        f"/api/v1/users/{world_a.admin.pk}/reset-password",
        {"newPassword": "Stolen-pass-2026"},
        format="json",
    )
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["code"] == "SELF_CHANGE_FORBIDDEN"
    assert _row(world_a.admin.pk) == before
    assert AuditLog.objects.count() == audit


def test_super_admin_cannot_reset_own_password_through_platform_endpoint(api, super_admin):
    before = _row(super_admin.pk)
    response = api(super_admin).post(
        f"/api/v1/super-admin/users/{super_admin.pk}/reset-password",
        {"newPassword": "Stolen-pass-2026"},
        format="json",
    )
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["code"] == "SELF_CHANGE_FORBIDDEN"
    assert _row(super_admin.pk) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [({}, "Required to change the email address."), ({"currentPassword": "wrong"}, None)],
)
def test_own_email_change_needs_the_current_password(api, world_a, extra, message):
    before, audit = _row(world_a.manager.pk), AuditLog.objects.count()
    response = api(world_a.manager).patch(
        "/api/v1/users/me", {"email": "new-manager@acme.test", **extra}, format="json"
    )
    assert response.status_code == 400, response.json()
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "currentPassword"
    assert detail["message"] == (message or "Current password is incorrect.")
    assert _row(world_a.manager.pk) == before
    assert AuditLog.objects.count() == audit


def test_own_email_change_with_password_ends_every_session(api, world_a, client):
    token = bearer(world_a.manager)
    client.credentials(HTTP_AUTHORIZATION=token)
    response = client.patch(
        "/api/v1/users/me",
        {"email": "New-Manager@Acme.Test", "currentPassword": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["email"] == "new-manager@acme.test"
    user = User.objects.get(pk=world_a.manager.pk)
    assert (user.email, user.token_version) == (
        "new-manager@acme.test",
        world_a.manager.token_version + 1,
    )
    assert client.get("/api/auth/me").status_code == 401
    row = AuditLog.objects.get(action="user.update_profile", entity_id=str(user.pk))
    assert (row.before, row.after) == (
        {"email": "manager@acme.test"},
        {"email": "new-manager@acme.test"},
    )


def test_admin_changing_someone_elses_email_ends_their_sessions(api, world_a, client):
    client.credentials(HTTP_AUTHORIZATION=bearer(world_a.cashier))
    assert client.get("/api/auth/me").status_code == 200
    response = api(world_a.admin).patch(
        f"/api/v1/users/{world_a.cashier.pk}", {"email": "till@acme.test"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert User.objects.get(pk=world_a.cashier.pk).email == "till@acme.test"
    assert client.get("/api/auth/me").status_code == 401


def test_changing_only_name_keeps_sessions(api, world_a, client):
    client.credentials(HTTP_AUTHORIZATION=bearer(world_a.cashier))
    response = api(world_a.admin).patch(
        f"/api/v1/users/{world_a.cashier.pk}", {"name": "Till Person"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert client.get("/api/auth/me").status_code == 200
