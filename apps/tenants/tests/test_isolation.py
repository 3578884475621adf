"""Tenant isolation at the routing and authentication layer: the tenant comes from the verified
token only, a tenant domain accepts only its own tokens, and a forged or mismatched claim is 401.
(Per-resource 404 isolation tests are generated in later modules over their id endpoints.)"""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from apps.audit.models import AuditLog
from apps.core.models import IdempotencyRecord
from conftest import bearer

pytestmark = pytest.mark.django_db


def test_token_is_refused_on_another_tenants_domain(client, world_a, world_b):
    response = client.get(
        "/api/auth/me", HTTP_AUTHORIZATION=bearer(world_a.admin), HTTP_HOST="bravo.mipos.localhost"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    # …and accepted on its own domain and on the shared API host
    for host in ("acme.mipos.localhost", "localhost"):
        ok = client.get("/api/auth/me", HTTP_AUTHORIZATION=bearer(world_a.admin), HTTP_HOST=host)
        assert ok.status_code == 200
        assert ok.json()["data"]["tenant"]["slug"] == "acme"


def test_a_write_on_another_tenants_domain_changes_nothing(client, world_a, world_b, in_tenant):
    audit_before = AuditLog.objects.count()
    response = client.post(
        "/api/auth/logout-all",
        HTTP_AUTHORIZATION=bearer(world_a.admin),
        HTTP_HOST="bravo.mipos.localhost",
    )
    assert response.status_code == 401
    assert AuditLog.objects.count() == audit_before
    world_a.admin.refresh_from_db()
    assert world_a.admin.token_version == 0


def test_a_token_claiming_another_tenant_is_refused(client, world_a, world_b):
    """Even a correctly signed token whose tenant claim names B is refused for A's user."""
    token = AccessToken()
    token["sub"] = str(world_a.admin.pk)
    token["tenant"] = world_b.tenant.schema_name
    token["tv"] = 0
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_headers_and_body_cannot_select_a_tenant(client, world_a, world_b, in_tenant):
    """The tenant written to is the token's, whatever else the request says."""
    response = client.post(
        "/api/v1/_test/idempotent",
        {"amount": "1", "tenant": world_b.tenant.schema_name},
        format="json",
        HTTP_AUTHORIZATION=bearer(world_a.cashier),
        HTTP_X_TENANT=world_b.tenant.slug,
        HTTP_IDEMPOTENCY_KEY="isolation-1",
    )
    assert response.status_code == 201
    with in_tenant(world_b.tenant):
        assert IdempotencyRecord.objects.count() == 0
    with in_tenant(world_a.tenant):
        assert IdempotencyRecord.objects.filter(key="isolation-1").count() == 1


test_headers_and_body_cannot_select_a_tenant = pytest.mark.urls("apps.core.tests.urls")(
    test_headers_and_body_cannot_select_a_tenant
)
