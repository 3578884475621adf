from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.tenants.models import Tenant
from apps.users.models import User

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_creates_a_super_admin_without_tenant(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Ops@Platform.Test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Ops-secret-2026")
    call_command("createsuperuser", "--noinput", stdout=io.StringIO())
    user = User.objects.get(email="ops@platform.test")
    assert (user.role, user.tenant_id, user.is_staff) == ("SUPER_ADMIN", None, True)
    assert user.check_password("Ops-secret-2026")


def test_seed_demo_is_idempotent_and_prints_the_logins(worlds):
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    counts = (Tenant.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=second)
    assert (Tenant.objects.count(), User.objects.count()) == counts
    demo = Tenant.objects.get(slug="demo")
    assert User.objects.get(email="admin@demo.mipos.local").tenant == demo
    output = second.getvalue()
    assert "admin@demo.mipos.local" in output and "Admin-pass-2026" in output
    assert "root@mipos.local" in output


def test_the_template_tenant_exists_and_is_hidden(worlds):
    template = Tenant.objects.get(is_template=True)
    assert template.schema_name == "tenant_template"
