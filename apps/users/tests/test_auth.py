from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.audit.models import AuditLog
from apps.tenants.models import TenantStatus
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
ME = "/api/auth/me"


def login(client, email, password=PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def tokens(client, email, password=PASSWORD) -> tuple[str, str]:
    response = login(client, email, password)
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    return data["accessToken"], data["refreshToken"]


def me_status(client, access: str) -> int:
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def refresh(client, token: str):
    return client.post(REFRESH, {"refreshToken": token}, format="json")


def test_login_returns_tokens_and_profile(client, world_a):
    response = login(client, "ADMIN@Acme.Test")  # email is case-insensitive
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    user = body["data"]["user"]
    assert user["email"] == "admin@acme.test"
    assert user["role"] == "ADMIN"
    assert user["tenant"]["slug"] == "acme"
    assert "tenant:manage" in user["permissions"]
    assert set(body["data"]) == {"accessToken", "refreshToken", "user"}
    assert (
        AuditLog.objects.filter(action="auth.login", entity_id=str(world_a.admin.pk)).count() == 1
    )


def test_access_token_lifetime_is_15_minutes_and_refresh_7_days(client, world_a):
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    access, refresh_token = tokens(client, world_a.admin.email)
    access_claims, refresh_claims = AccessToken(access), RefreshToken(refresh_token)
    assert access_claims["exp"] - access_claims["iat"] == 15 * 60
    assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 24 * 3600
    assert access_claims["tenant"] == world_a.tenant.schema_name


def test_wrong_password_is_401_and_issues_nothing(client, world_a):
    before = OutstandingToken.objects.count()
    response = login(client, world_a.admin.email, "wrong-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert OutstandingToken.objects.count() == before


def test_me_requires_a_token(client, world_a):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert client.get(ME, HTTP_AUTHORIZATION="Bearer not-a-jwt").status_code == 401


def test_refresh_rotates_and_old_refresh_token_is_dead(client, world_a):
    _, first = tokens(client, world_a.admin.email)
    response = refresh(client, first)
    assert response.status_code == 200
    second = response.json()["data"]["refreshToken"]
    assert second != first
    assert me_status(client, response.json()["data"]["accessToken"]) == 200
    assert BlacklistedToken.objects.filter(token__token=first).exists()


def test_refresh_reuse_revokes_every_session(client, world_a):
    access_1, refresh_1 = tokens(client, world_a.admin.email)
    access_2, refresh_2 = tokens(client, world_a.admin.email)  # a second device
    rotated = refresh(client, refresh_1).json()["data"]
    reuse = refresh(client, refresh_1)  # the stolen, already-rotated token comes back
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "TOKEN_INVALID"
    # every session of the user is gone: both devices, the rotated pair included
    assert refresh(client, refresh_2).status_code == 401
    assert refresh(client, rotated["refreshToken"]).status_code == 401
    for access in (access_1, access_2, rotated["accessToken"]):
        assert me_status(client, access) == 401
    assert AuditLog.objects.filter(action="auth.refresh_reuse").count() == 1


def test_logout_revokes_only_the_presented_refresh_token(client, world_a):
    access_1, refresh_1 = tokens(client, world_a.admin.email)
    _, refresh_2 = tokens(client, world_a.admin.email)
    response = client.post(
        "/api/auth/logout",
        {"refreshToken": refresh_1},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_1}",
    )
    assert response.status_code == 200
    assert refresh(client, refresh_1).status_code == 401
    assert refresh(client, refresh_2).status_code == 200  # the other device still works


def test_logout_refuses_someone_elses_refresh_token(client, world_a):
    access, _ = tokens(client, world_a.admin.email)
    _, other_refresh = tokens(client, world_a.manager.email)
    response = client.post(
        "/api/auth/logout",
        {"refreshToken": other_refresh},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert response.status_code == 400
    assert refresh(client, other_refresh).status_code == 200


def test_logout_all_revokes_every_refresh_and_access_token(client, world_a):
    access_1, refresh_1 = tokens(client, world_a.admin.email)
    access_2, refresh_2 = tokens(client, world_a.admin.email)
    response = client.post("/api/auth/logout-all", HTTP_AUTHORIZATION=f"Bearer {access_1}")
    assert response.status_code == 200
    assert me_status(client, access_1) == 401
    assert me_status(client, access_2) == 401
    assert refresh(client, refresh_1).status_code == 401
    assert refresh(client, refresh_2).status_code == 401
    # other users are untouched
    other_access, _ = tokens(client, world_a.manager.email)
    assert me_status(client, other_access) == 200


def test_change_password_kills_old_tokens_and_returns_a_new_session(client, world_a):
    user = world_a.manager
    old_access, old_refresh = tokens(client, user.email)
    response = client.patch(
        "/api/auth/change-password",
        {"currentPassword": PASSWORD, "newPassword": "A-brand-new-secret-9"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {old_access}",
    )
    assert response.status_code == 200
    new_access = response.json()["data"]["accessToken"]
    assert me_status(client, old_access) == 401
    assert refresh(client, old_refresh).status_code == 401
    assert me_status(client, new_access) == 200
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, "A-brand-new-secret-9").status_code == 200


def test_change_password_with_wrong_current_password_changes_nothing(client, world_a):
    user = world_a.manager
    access, _ = tokens(client, user.email)
    hash_before = User.objects.get(pk=user.pk).password
    response = client.patch(
        "/api/auth/change-password",
        {"currentPassword": "nope-nope-nope", "newPassword": "A-brand-new-secret-9"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "currentPassword"
    assert User.objects.get(pk=user.pk).password == hash_before
    assert me_status(client, access) == 200


def test_wrong_current_passwords_spend_the_login_budget(client, world_a, settings):
    """An open session is no way to guess the password: each wrong current password counts as a
    failed login; once the account's budget is spent, even the right one gets 429."""
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    user = world_a.manager
    access, _ = tokens(client, user.email)
    hash_before = User.objects.get(pk=user.pk).password

    def change(current: str):
        return client.patch(
            "/api/auth/change-password",
            {"currentPassword": current, "newPassword": "A-brand-new-secret-9"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {access}",
        )

    assert [change("nope-nope-nope").status_code for _ in range(3)] == [400, 400, 400]
    assert change(PASSWORD).status_code == 429
    assert User.objects.get(pk=user.pk).password == hash_before
    assert login(client, user.email).status_code == 429


def test_change_password_rejects_a_weak_password(client, world_a):
    access, _ = tokens(client, world_a.manager.email)
    response = client.patch(
        "/api/auth/change-password",
        {"currentPassword": PASSWORD, "newPassword": "123"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} == {"newPassword"}
    assert me_status(client, access) == 200


@pytest.mark.parametrize("change", [{"is_active": False}, {"deleted_at": "2026-01-01T00:00Z"}])
def test_inactive_or_deleted_user_cannot_login_refresh_or_use_a_token(client, world_a, change):
    user = world_a.cashier
    access, refresh_token = tokens(client, user.email)
    User.objects.filter(pk=user.pk).update(**change)
    assert login(client, user.email).status_code == 401
    assert me_status(client, access) == 401
    assert refresh(client, refresh_token).status_code == 401


def test_suspended_tenant_users_get_403_tenant_suspended(client, world_a):
    access, refresh_token = tokens(client, world_a.admin.email)
    type(world_a.tenant).objects.filter(pk=world_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    for response in (
        client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}"),
        login(client, world_a.admin.email),
        refresh(client, refresh_token),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "TENANT_SUSPENDED"


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=100)
def test_failed_logins_are_throttled_per_account(client, world_a):
    for _ in range(3):
        assert login(client, world_a.admin.email, "bad-password").status_code == 401
    response = login(client, world_a.admin.email)  # even the right password is refused now
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(response["Retry-After"]) <= 901
    # another account from the same IP is not affected
    assert login(client, world_a.manager.email).status_code == 200


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_IP=4)
def test_failed_logins_are_throttled_per_ip(client, world_a):
    for index in range(4):
        assert login(client, f"nobody{index}@acme.test", "bad-password").status_code == 401
    response = login(client, world_a.admin.email)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    other_ip = login(client.__class__(REMOTE_ADDR="10.9.9.9"), world_a.admin.email)
    assert other_ip.status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", ME),
        ("post", "/api/auth/logout"),
        ("post", "/api/auth/logout-all"),
        ("patch", "/api/auth/change-password"),
    ],
)
def test_authenticated_endpoints_refuse_anonymous_callers(client, worlds, method, path):
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
def test_every_tenant_role_can_use_its_own_session(client, world_a, role):
    user = world_a.user(role)
    access, _ = tokens(client, user.email)
    body = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").json()["data"]
    assert (body["email"], body["role"]) == (user.email, role)


def test_super_admin_session_has_no_tenant(client, super_admin):
    access, _ = tokens(client, super_admin.email)
    body = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").json()["data"]
    assert (body["role"], body["tenant"], body["permissions"]) == ("SUPER_ADMIN", None, [])
