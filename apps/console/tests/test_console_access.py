"""The Django admin is the platform console: only SUPER_ADMIN signs in; writes go through actions
that call the services (audited); the audit trail is read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.models import AuditLog
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(email: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": email, "password": PASSWORD})
    return client, response


def test_super_admin_signs_in(super_admin):
    client, response = signed_in(super_admin.email)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    for section in ("Companies and plans", "Companies", "Plans", "Audit trail"):
        assert f">{section}</" in html, section
    sections = [
        html.index(f'title="Models in the {name} application"')
        for name in ("Companies and plans", "Users", "Audit trail", "Dev tools")
    ]
    assert sections == sorted(sections)  # the operator's order, not alphabetical
    for hidden in ("Token Blacklist", "Groups", "Template (do not use)"):
        assert hidden not in html
    assert "<title>Dashboard | MIPOS platform console</title>" in html
    assert "Django administration" not in html


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
def test_tenant_users_cannot_sign_in(world_a, role):
    client, response = signed_in(world_a.user(role).email)
    assert response.status_code == 200  # the login form again, with an error
    assert "correct email and password for a staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_audit_rows_are_read_only_in_the_console(super_admin, world_a):
    client, _ = signed_in(super_admin.email)
    entry = AuditLog.objects.filter(tenant=world_a.tenant).first()
    page = client.get(f"/admin/audit/auditlog/{entry.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (
        client.post(f"/admin/audit/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert client.get("/admin/audit/auditlog/add/").status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()
