from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from apps.audit.models import AuditLog
from apps.core.models import IdempotencyRecord
from apps.tenants.models import Domain, Tenant
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/super-admin/tenants"


def payload(**overrides) -> dict:
    body = {
        "name": "Corner Shop",
        "slug": "corner-shop",
        "ownerEmail": "Owner@Corner.Test",
        "ownerPassword": "Corner-shop-pass-1",
        "ownerName": "Olive Owner",
    }
    body.update(overrides)
    return body


def test_super_admin_creates_a_company_with_its_owner(api, super_admin, client, in_tenant):
    response = api(super_admin).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["tenant"]["slug"] == "corner-shop"
    assert data["tenant"]["status"] == "ACTIVE"
    assert data["tenant"]["domain"] == "corner-shop.mipos.localhost"
    assert data["owner"]["email"] == "owner@corner.test"
    assert data["owner"]["role"] == "ADMIN"

    tenant = Tenant.objects.get(slug="corner-shop")
    assert tenant.schema_name == "t_corner_shop"
    assert schema_exists("t_corner_shop")
    # the cloned schema has the tenant tables and none of the template's rows
    with in_tenant(tenant):
        assert IdempotencyRecord.objects.count() == 0
    assert Domain.objects.get(tenant=tenant).is_primary is True
    assert (
        AuditLog.objects.filter(action="tenant.create", tenant=tenant, actor=super_admin).count()
        == 1
    )

    # the owner can sign in and lands in the new tenant
    login = client.post(
        "/api/auth/login",
        {"email": "owner@corner.test", "password": "Corner-shop-pass-1"},
        format="json",
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["tenant"]["slug"] == "corner-shop"


@pytest.mark.parametrize(
    "overrides, field",
    [({"slug": "acme"}, "slug"), ({"ownerEmail": "ADMIN@acme.test"}, "ownerEmail")],
)
def test_duplicate_slug_or_owner_email_is_409_and_creates_nothing(
    api, super_admin, world_a, overrides, field
):
    tenants, users = Tenant.objects.count(), User.objects.count()
    response = api(super_admin).post(URL, payload(**overrides), format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"][0]["field"] == field
    assert (Tenant.objects.count(), User.objects.count()) == (tenants, users)


@pytest.mark.parametrize(
    "overrides, fields",
    [
        ({"slug": "Bad Slug!"}, {"slug"}),
        ({"slug": "x"}, {"slug"}),
        ({"ownerPassword": "short"}, {"ownerPassword"}),
        ({"ownerEmail": "not-an-email"}, {"ownerEmail"}),
        ({"name": 12345678901234567890 * 10**200}, {"name"}),
        ({"name": ""}, {"name"}),
    ],
)
def test_invalid_company_is_400_with_details_and_creates_nothing(
    api, super_admin, overrides, fields
):
    tenants = Tenant.objects.count()
    response = api(super_admin).post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {d["field"] for d in error["details"]} == fields
    assert Tenant.objects.count() == tenants
    assert not schema_exists("t_corner_shop")


def test_missing_fields_are_each_reported(api, super_admin):
    response = api(super_admin).post(URL, {}, format="json")
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"name", "slug", "ownerEmail", "ownerPassword", "ownerName"}


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
def test_tenant_roles_cannot_use_super_admin_endpoints(api, world_a, role):
    client = api(world_a.user(role))
    assert client.get(URL).status_code == 403
    response = client.post(URL, payload(), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(slug="corner-shop").exists()


def test_anonymous_is_401(client, worlds):
    assert client.get(URL).status_code == 401


def test_list_is_paginated_and_hides_the_template(api, super_admin, world_a, world_b):
    response = api(super_admin).get(URL, {"limit": 1, "sort": "-createdAt"})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"page": 1, "limit": 1, "total": 2, "totalPages": 2}
    assert body["data"][0]["slug"] == "bravo"
    slugs = {t["slug"] for t in api(super_admin).get(URL).json()["data"]}
    assert slugs == {"acme", "bravo"}
    assert api(super_admin).get(URL, {"search": "brav"}).json()["meta"]["total"] == 1
    assert api(super_admin).get(URL, {"status": "SUSPENDED"}).json()["meta"]["total"] == 0


def test_list_query_count_does_not_grow_with_page_size(api, super_admin, world_a):
    from django.test.utils import CaptureQueriesContext

    from apps.tenants.services import tenant_create

    for index in range(3):
        tenant_create(
            name=f"Extra {index}",
            slug=f"extra-{index}",
            owner_email=f"o{index}@extra.test",
            owner_password=PASSWORD,
            owner_name="Owner",
        )
    client = api(super_admin)
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(URL, {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(URL, {"limit": 100}).json()["data"]) == 5
    assert len(large) == len(small)
