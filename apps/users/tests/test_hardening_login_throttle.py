"""Failed-login counters are platform-wide: spreading attempts over the API host and tenant
domains does not buy an attacker a fresh budget per host (issue 7, defect 3)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.audit.models import AuditLog
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
HOSTS = ("localhost", "acme.mipos.localhost", "bravo.mipos.localhost")


def login(client, email, password, host):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", HTTP_HOST=host)


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=100)
def test_account_failures_on_several_hosts_add_up(client, world_a):
    email = world_a.admin.email
    last_login = User.objects.get(pk=world_a.admin.pk).last_login
    logins_before = AuditLog.objects.filter(action="auth.login").count()
    for host in HOSTS:  # one failure per host: three in all
        assert login(client, email, "bad-password", host).status_code == 401
    for host in HOSTS:  # the right password is refused on every host now
        response = login(client, email, PASSWORD, host)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(response["Retry-After"]) <= 901
    # nothing was signed in
    assert User.objects.get(pk=world_a.admin.pk).last_login == last_login
    assert AuditLog.objects.filter(action="auth.login").count() == logins_before


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_IP=2)
def test_ip_failures_on_several_hosts_add_up(client, world_a):
    assert login(client, "nobody1@acme.test", "bad-password", "localhost").status_code == 401
    assert (
        login(client, "nobody2@acme.test", "bad-password", "acme.mipos.localhost").status_code
        == 401
    )
    response = login(client, world_a.manager.email, PASSWORD, "bravo.mipos.localhost")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
