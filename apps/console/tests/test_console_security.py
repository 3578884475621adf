"""Signing in to the console: active super admins only, the API login's failure budget and lockout
(shared both ways), the API's audit row; sessions expire; CSRF and the CSP stay on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditLog
from apps.core.security import ADMIN_POLICY, CSP_HEADER
from apps.users import services
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
REFUSED = "Please enter the correct email and password for a staff account."
LOCKED = "Too many failed sign-in attempts. Retry in"


def sign_in(email: str, password: str = PASSWORD) -> tuple[Client, object]:
    client = Client()
    return client, client.post(LOGIN, {"username": email, "password": password})


def api_login(client, email: str, password: str = PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


def console_errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


def test_an_active_super_admin_signs_in_audited(super_admin):
    client, response = sign_in("ROOT@platform.test")  # the address as typed
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    entry = AuditLog.objects.get(action="auth.login", actor=super_admin)
    assert (entry.entity_id, entry.tenant_id, entry.after) == (
        str(super_admin.pk),
        None,
        {"channel": "console"},
    )
    super_admin.refresh_from_db()
    assert timezone.now() - super_admin.last_login < timedelta(minutes=1)


@pytest.mark.parametrize("state", ["inactive", "deleted"])
def test_an_inactive_or_deleted_super_admin_is_refused(super_admin, state):
    other = User.objects.create_superuser("ops@platform.test", PASSWORD)
    if state == "inactive":
        services.staff_deactivate(actor=super_admin, user_id=other.pk)
    else:
        services.user_soft_delete(actor=super_admin, user_id=other.pk)
    client, response = sign_in(other.email)
    assert response.status_code == 200
    assert console_errors(response) == [REFUSED]
    assert client.get("/admin/")["Location"] == LOGIN
    assert not AuditLog.objects.filter(action="auth.login", actor=other).exists()


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
def test_company_users_are_refused_and_counted(world_a, role, client):
    user = world_a.user(role)
    console, response = sign_in(user.email)  # the right password
    assert response.status_code == 200
    assert console_errors(response) == [REFUSED]
    assert console.get("/admin/")["Location"] == LOGIN
    assert not AuditLog.objects.filter(action="auth.login", actor=user).exists()
    # the console is no second door: its refusals spend the account's API budget too
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        sign_in(user.email)
    locked = api_login(client, user.email)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_console_failures_lock_the_api_and_the_console(super_admin, client):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        _, response = sign_in(super_admin.email, "wrong-password")
        assert console_errors(response) == [REFUSED]
    locked = api_login(client, super_admin.email)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "RATE_LIMITED"
    console, response = sign_in(super_admin.email)  # even the right password
    assert response.status_code == 200
    assert console_errors(response)[0].startswith(LOCKED)
    assert console.get("/admin/")["Location"] == LOGIN
    assert not AuditLog.objects.filter(action="auth.login", actor=super_admin).exists()


def test_api_failures_lock_the_console(super_admin, client):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert api_login(client, super_admin.email, "wrong-password").status_code == 401
    console, response = sign_in(super_admin.email)
    assert console_errors(response)[0].startswith(LOCKED)
    assert console.get("/admin/")["Location"] == LOGIN


def test_the_per_ip_budget_is_shared(super_admin, client, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    for n in range(3):
        sign_in(f"nobody{n}@platform.test", "wrong-password")  # the test client's 127.0.0.1
    assert api_login(client, super_admin.email).status_code == 429
    _, response = sign_in(super_admin.email)
    assert console_errors(response)[0].startswith(LOCKED)


def test_a_console_sign_in_clears_the_account_failures(super_admin, client):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        sign_in(super_admin.email, "wrong-password")
    _, response = sign_in(super_admin.email)
    assert response.status_code == 302
    sign_in(super_admin.email, "wrong-password")
    assert api_login(client, super_admin.email).status_code == 200  # one failure, not five


def test_the_session_expires(super_admin):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client, _ = sign_in(super_admin.email)
    age = settings.SESSION_COOKIE_AGE
    assert age == 8 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    with time_machine.travel(start + timedelta(seconds=age - 60), tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + timedelta(seconds=age + 1), tick=False):
        response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, LOGIN)


def test_a_password_change_in_the_api_ends_console_sessions(super_admin, api):
    client, _ = sign_in(super_admin.email)
    changed = api(super_admin).patch(
        "/api/auth/change-password",
        {"currentPassword": PASSWORD, "newPassword": "Another-horse-43"},
        format="json",
    )
    assert changed.status_code == 200
    assert client.get("/admin/")["Location"] == LOGIN


def test_csrf_is_enforced(super_admin):
    client = Client(enforce_csrf_checks=True)
    refused = client.post(LOGIN, {"username": super_admin.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert not AuditLog.objects.filter(action="auth.login").exists()

    client.force_login(super_admin)
    other = User.objects.create_superuser("ops@platform.test", PASSWORD)
    response = client.post(
        "/admin/users/platformadmin/",
        {
            "action": "deactivate",
            "_selected_action": [str(other.pk)],
            "confirm": "yes",
            "reason": "no token",
        },
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.is_active
    assert not AuditLog.objects.filter(action="user.deactivate").exists()


@pytest.mark.parametrize(
    "path", ["/admin/login/", "/admin/", "/admin/users/platformadmin/", "/admin/users/companyuser/"]
)
def test_console_pages_carry_the_csp(super_admin, path):
    client = Client()
    if path != "/admin/login/":
        client.force_login(super_admin)
    response = client.get(path)
    assert response.status_code == 200
    assert response[CSP_HEADER] == ADMIN_POLICY
    assert "script-src 'self'" in response[CSP_HEADER]
