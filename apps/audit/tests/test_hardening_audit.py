"""Audit rows never hold a secret, however deeply it is nested, and never fail on a malformed
client address (issue 7, defect 10a/b)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from apps.audit.models import AuditLog
from apps.audit.services import audit_record
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"


def test_secrets_are_dropped_at_any_depth(world_a):
    entry = audit_record(
        action="integration.update",
        entity_type="integration",
        entity_id="i-1",
        actor=world_a.admin,
        tenant=world_a.tenant,
        before={"config": {"url": "https://a.test", "apiToken": "old-t"}},
        after={
            "config": {
                "url": "https://b.test",
                "apiToken": "new-t",
                "auth": {"user": "svc", "Password": "p1", "client_secret": "s1"},
            },
            "hooks": [
                {"name": "sale", "signingSecret": "h1", "headers": {"X-Token": "h2"}},
                ["keep", {"refresh_token": "r1", "note": "ok"}],
            ],
            "password_hint": "never stored either",
        },
    )
    entry.refresh_from_db()
    assert entry.before == {"config": {"url": "https://a.test"}}
    assert entry.after == {
        "config": {"url": "https://b.test", "auth": {"user": "svc"}},
        "hooks": [{"name": "sale", "headers": {}}, ["keep", {"note": "ok"}]],
    }


def _login(client, world, **extra):
    return client.post(
        LOGIN, {"email": world.cashier.email, "password": PASSWORD}, format="json", **extra
    )


def _last_login_row(world) -> AuditLog:
    return (
        AuditLog.objects.filter(action="auth.login", actor_id=world.cashier.pk)
        .order_by("-created_at")
        .first()
    )


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
@pytest.mark.parametrize(
    "forwarded", ["not-an-ip", "203.0.113.7, 999.1.1.1", "1.2.3.4; drop table", "<script>"]
)
def test_malformed_forwarded_address_is_stored_as_null(client, world_a, forwarded):
    before = AuditLog.objects.filter(action="auth.login").count()
    response = _login(client, world_a, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert AuditLog.objects.filter(action="auth.login").count() == before + 1
    assert _last_login_row(world_a).ip is None


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_valid_forwarded_address_is_stored(client, world_a):
    response = _login(client, world_a, HTTP_X_FORWARDED_FOR="198.51.100.4, 2001:db8::1")
    assert response.status_code == 200
    assert _last_login_row(world_a).ip == "2001:db8::1"


def test_malformed_remote_addr_is_stored_as_null(client, world_a):
    response = _login(client, world_a, REMOTE_ADDR="unix-socket")
    assert response.status_code == 200
    assert _last_login_row(world_a).ip is None
