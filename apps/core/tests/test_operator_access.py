"""Operator access (issue 15, part 4): a SUPER_ADMIN acts inside one company only with
`X-Act-As-Tenant` and `X-Act-As-Reason`; reads any time, writes only with a fresh password check;
every request that gets in is audited on the company's trail and the platform's; anyone else
sending the header is refused and nothing changes. Real requests through the test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import DatabaseError
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.audit.models import AuditLog
from apps.core import operator
from apps.stores.models import Store
from apps.tenants.models import Tenant, TenantStatus
from apps.users.models import User
from apps.users.tokens import token_pair_issue
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

REASON = "Ticket #4711: stock figures look wrong"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def acting(tenant, reason: str | None = REASON) -> dict[str, str]:
    headers = {"HTTP_X_ACT_AS_TENANT": str(tenant.pk)}
    if reason is not None:
        headers["HTTP_X_ACT_AS_REASON"] = reason
    return headers


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def login(email: str) -> dict:
    response = APIClient().post(
        "/api/auth/login", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def stale_token(user: User) -> str:
    """A valid access token whose password check is an hour old (a refreshed session)."""
    old = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    return token_pair_issue(user=user, rotated_from={"authAt": old}).access


def access_rows(tenant=None, **filters) -> list[AuditLog]:
    rows = AuditLog.objects.filter(action="operator.access", **filters).order_by("created_at")
    return list(rows.filter(tenant=tenant) if tenant is not None else rows)


def snapshot(world) -> tuple:
    """What a refused write must leave as it was: the store rows and the whole audit trail."""
    with tenant_context(world.tenant):
        stores = sorted(Store.objects.values_list("pk", "name", "phone"))
    return stores, AuditLog.objects.count()


# --- reads -------------------------------------------------------------------------------------


def test_operator_reads_the_named_company_and_only_it(api, super_admin, world_a, world_b):
    client = api(super_admin)
    products = client.get("/api/v1/products", {"limit": 100}, **acting(world_a.tenant))
    assert products.status_code == 200
    ids = {row["id"] for row in products.json()["data"]}
    assert str(world_a.product.pk) in ids
    assert str(world_b.product.pk) not in ids
    other = client.get(f"/api/v1/products/{world_b.product.pk}", **acting(world_a.tenant))
    assert other.status_code == 404
    me = client.get("/api/v1/tenants/me", **acting(world_a.tenant))
    assert (me.status_code, me.json()["data"]["id"]) == (200, str(world_a.tenant.pk))
    me_b = client.get("/api/v1/tenants/me", **acting(world_b.tenant))
    assert (me_b.status_code, me_b.json()["data"]["id"]) == (200, str(world_b.tenant.pk))
    head = client.head("/api/v1/tenants/me", **acting(world_a.tenant))
    assert head.status_code == 200


def test_without_the_header_the_operator_stays_outside_every_company(api, super_admin):
    client = api(super_admin)
    assert client.get("/api/v1/products").status_code == 403
    assert client.get("/api/v1/super-admin/tenants").status_code == 200
    assert access_rows() == []


def test_every_read_is_audited_on_both_trails(api, super_admin, world_a):
    response = api(super_admin).get(
        "/api/v1/customers", {"search": "ann", "limit": 5}, **acting(world_a.tenant)
    )
    assert response.status_code == 200
    company, platform = access_rows(world_a.tenant), access_rows(tenant_id__isnull=True)
    assert len(company) == len(platform) == 1
    expected = {
        "method": "GET",
        "path": "/api/v1/customers",
        "query": "search=ann&limit=5",
        "reason": REASON,
        "status": 200,
    }
    for row in (company[0], platform[0]):
        assert (row.actor_id, row.entity_type, row.entity_id) == (
            super_admin.pk,
            "tenant",
            str(world_a.tenant.pk),
        )
        assert row.before is None
        assert row.after == expected
        assert row.request_id == response["X-Request-ID"]


def test_a_refused_read_inside_is_audited_with_its_status(api, super_admin, world_a, world_b):
    response = api(super_admin).get(
        f"/api/v1/products/{world_b.product.pk}", **acting(world_a.tenant)
    )
    assert response.status_code == 404
    (row,) = access_rows(world_a.tenant)
    assert (row.after["status"], row.after["path"]) == (
        404,
        f"/api/v1/products/{world_b.product.pk}",
    )


# --- writes ------------------------------------------------------------------------------------


def test_a_write_without_a_fresh_password_check_is_refused_and_changes_nothing(
    super_admin, world_a
):
    client = bearer(stale_token(super_admin))
    before = snapshot(world_a)
    response = client.patch(
        f"/api/v1/stores/{world_a.store.pk}",
        {"phone": "555-0100"},
        format="json",
        **acting(world_a.tenant),
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "REAUTH_REQUIRED"
    assert "POST /api/auth/login" in error["message"]
    assert snapshot(world_a) == before
    # the same token still reads
    assert client.get("/api/v1/stores", **acting(world_a.tenant)).status_code == 200


def test_a_fresh_write_succeeds_and_names_the_operator(super_admin, world_a):
    client = bearer(login(super_admin.email)["accessToken"])
    response = client.patch(
        f"/api/v1/stores/{world_a.store.pk}",
        {"phone": "555-0100"},
        format="json",
        **acting(world_a.tenant),
    )
    assert response.status_code == 200
    assert response.json()["data"]["phone"] == "555-0100"
    with tenant_context(world_a.tenant):
        assert Store.objects.get(pk=world_a.store.pk).phone == "555-0100"
    change = AuditLog.objects.get(action="store.update", entity_id=str(world_a.store.pk))
    assert (change.actor_id, change.tenant_id) == (super_admin.pk, world_a.tenant.pk)
    assert change.after == {"phone": "555-0100"}
    company, platform = access_rows(world_a.tenant), access_rows(tenant_id__isnull=True)
    assert [row.after for row in company] == [row.after for row in platform]
    assert company[0].after == {
        "method": "PATCH",
        "path": f"/api/v1/stores/{world_a.store.pk}",
        "query": "",
        "reason": REASON,
        "status": 200,
    }
    assert company[0].actor_id == platform[0].actor_id == super_admin.pk
    # the operator's own row is untouched: still a platform operator without a company
    stored = User.objects.get(pk=super_admin.pk)
    assert (stored.role, stored.tenant_id) == ("SUPER_ADMIN", None)


def test_a_create_inside_the_company_is_exact(super_admin, world_a):
    client = bearer(login(super_admin.email)["accessToken"])
    response = client.post(
        "/api/v1/products/categories", {"name": "Operator test"}, format="json",
        **acting(world_a.tenant),
    )  # fmt: skip
    assert response.status_code == 201
    entry = AuditLog.objects.get(action="category.create", entity_id=response.json()["data"]["id"])
    assert (entry.actor_id, entry.tenant_id) == (super_admin.pk, world_a.tenant.pk)


def test_freshness_expires_with_the_clock_and_survives_no_refresh(super_admin, world_a):
    path = f"/api/v1/stores/{world_a.store.pk}"
    with time_machine.travel(START, tick=False) as traveller:
        tokens = login(super_admin.email)
        traveller.shift(timedelta(minutes=14, seconds=50))  # the login is 14:50 old: fresh
        fresh = bearer(tokens["accessToken"]).patch(
            path, {"phone": "1"}, format="json", **acting(world_a.tenant)
        )
        assert fresh.status_code == 200
        traveller.shift(timedelta(seconds=20))  # 15:10 after the login
        refreshed = APIClient().post(
            "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
        )
        assert refreshed.status_code == 200
        renewed = refreshed.json()["data"]["accessToken"]
        assert AccessToken(renewed)["authAt"] == int(START.timestamp())
        before = snapshot(world_a)
        stale = bearer(renewed).patch(path, {"phone": "2"}, format="json", **acting(world_a.tenant))
        assert (stale.status_code, stale.json()["error"]["code"]) == (403, "REAUTH_REQUIRED")
        assert snapshot(world_a) == before
        assert bearer(renewed).get(path, **acting(world_a.tenant)).status_code == 200
        again = bearer(login(super_admin.email)["accessToken"]).patch(
            path, {"phone": "3"}, format="json", **acting(world_a.tenant)
        )
        assert again.status_code == 200


def test_the_window_is_configurable(settings, super_admin, world_a):
    settings.OPERATOR_WRITE_REAUTH_MINUTES = 0
    with time_machine.travel(START, tick=False) as traveller:
        client = bearer(login(super_admin.email)["accessToken"])
        traveller.shift(timedelta(seconds=1))
        response = client.patch(
            f"/api/v1/stores/{world_a.store.pk}", {"phone": "1"}, format="json",
            **acting(world_a.tenant),
        )  # fmt: skip
    assert response.json()["error"]["code"] == "REAUTH_REQUIRED"


# --- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
@pytest.mark.parametrize("own_company", [True, False])
def test_anyone_else_sending_the_header_is_refused_and_nothing_changes(
    api, world_a, world_b, role, own_company
):
    world = world_a if own_company else world_b
    client = api(world.user(role))
    before = snapshot(world_a), snapshot(world_b)
    read = client.get("/api/v1/products", **acting(world_a.tenant))
    write = client.patch(
        f"/api/v1/stores/{world_a.store.pk}", {"phone": "9"}, format="json",
        **acting(world_a.tenant),
    )  # fmt: skip
    for response in (read, write):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert "data" not in response.json()
    assert (snapshot(world_a), snapshot(world_b)) == before


def test_the_header_without_a_token_is_401(client, world_a):
    response = client.get("/api/v1/products", **acting(world_a.tenant))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "UNAUTHORIZED")


@pytest.mark.parametrize("reason", [None, "", "  ", "ab", "x" * 501])
def test_a_missing_or_bad_reason_is_400(api, super_admin, world_a, reason):
    response = api(super_admin).get("/api/v1/products", **acting(world_a.tenant, reason))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["details"]] == ["X-Act-As-Reason"]
    assert access_rows() == []


def test_the_longest_reason_is_accepted(api, super_admin, world_a):
    response = api(super_admin).get("/api/v1/products", **acting(world_a.tenant, "x" * 500))
    assert response.status_code == 200


def test_a_reason_in_utf8_is_kept_as_written(api, super_admin, world_a):
    reason = "Müller's till: Zählung prüfen"
    raw = reason.encode().decode("latin-1")  # what WSGI hands over for those bytes
    response = api(super_admin).get("/api/v1/stores", **acting(world_a.tenant, raw))
    assert response.status_code == 200
    assert {row.after["reason"] for row in access_rows()} == {reason}


def test_unknown_template_or_malformed_company_is_404(api, super_admin):
    client = api(super_admin)
    template = Tenant.objects.get(is_template=True)
    for value in ("3f0c4e9a-0000-4000-8000-000000000000", str(template.pk), "acme", ""):
        response = client.get(
            "/api/v1/products", HTTP_X_ACT_AS_TENANT=value, HTTP_X_ACT_AS_REASON=REASON
        )
        assert response.status_code == 404, value
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert access_rows() == []


def test_a_suspended_company_is_403_tenant_suspended(api, super_admin, world_a):
    Tenant.objects.filter(pk=world_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    response = api(super_admin).get("/api/v1/products", **acting(world_a.tenant))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "TENANT_SUSPENDED")


def test_only_company_endpoints_take_the_header(api, super_admin, world_a):
    client = api(super_admin)
    for path in ("/api/auth/me", "/health"):
        response = client.get(path, **acting(world_a.tenant))
        assert response.status_code == 400, path
        assert response.json()["error"]["details"][0]["field"] == "X-Act-As-Tenant"
    # platform endpoints under /api/v1 are out of reach while acting as the company's ADMIN
    platform = client.get("/api/v1/super-admin/tenants", **acting(world_a.tenant))
    assert platform.status_code == 403


def test_a_revoked_operator_token_is_401(api, super_admin, world_a):
    client = api(super_admin)
    User.objects.filter(pk=super_admin.pk).update(token_version=super_admin.token_version + 1)
    response = client.get("/api/v1/products", **acting(world_a.tenant))
    assert response.status_code == 401
    assert access_rows() == []


def test_a_read_that_cannot_be_audited_is_not_answered(api, super_admin, world_a, monkeypatch):
    from apps.audit import services

    def broken(**kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(services, "operator_access_record", broken)
    response = api(super_admin).get("/api/v1/products", **acting(world_a.tenant))
    assert response.status_code == 503
    assert response.json() == {
        "success": False,
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "The access could not be recorded; try again.",
            "details": [],
        },
    }


# --- what the company sees -----------------------------------------------------------------------


def test_the_companys_admins_list_the_accesses_and_no_other_company_does(
    api, super_admin, world_a, world_b
):
    operator_client = api(super_admin)
    operator_client.get("/api/v1/stores", **acting(world_a.tenant, "Checking stores"))
    operator_client.get("/api/v1/tenants/me", **acting(world_b.tenant, "Checking B"))
    listed = api(world_a.admin).get("/api/v1/audit", {"action": "operator.access"})
    assert listed.status_code == 200
    body = listed.json()
    assert body["meta"]["total"] == 1
    (row,) = body["data"]
    assert row["tenantId"] == str(world_a.tenant.pk)
    assert row["action"] == "operator.access"
    assert (row["entityType"], row["entityId"]) == ("tenant", str(world_a.tenant.pk))
    assert row["actor"] == {
        "id": str(super_admin.pk),
        "email": "root@platform.test",
        "name": super_admin.name,
        "role": "SUPER_ADMIN",
    }
    assert row["after"] == {
        "method": "GET",
        "path": "/api/v1/stores",
        "query": "",
        "reason": "Checking stores",
        "status": 200,
    }
    other = api(world_b.admin).get("/api/v1/audit", {"action": "operator.access"}).json()
    assert [r["after"]["reason"] for r in other["data"]] == ["Checking B"]
    assert {r["tenantId"] for r in other["data"]} == {str(world_b.tenant.pk)}
    platform = api(super_admin).get(
        "/api/v1/audit/all", {"action": "operator.access", "limit": 100}
    )
    rows = platform.json()["data"]
    assert sorted((r["tenantId"] or "", r["after"]["reason"]) for r in rows) == sorted(
        [
            (str(world_a.tenant.pk), "Checking stores"),
            ("", "Checking stores"),
            (str(world_b.tenant.pk), "Checking B"),
            ("", "Checking B"),
        ]
    )


def test_query_parameters_naming_secrets_are_not_recorded(api, super_admin, world_a):
    api(super_admin).get(
        "/api/v1/products", {"search": "x", "api_token": "t", "password": "p"},
        **acting(world_a.tenant),
    )  # fmt: skip
    (row,) = access_rows(world_a.tenant)
    assert row.after["query"] == "search=x"


# --- nothing else changes ----------------------------------------------------------------------


def test_requests_without_the_header_never_reach_operator_code(api, world_a, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("operator code ran without the header")

    monkeypatch.setattr(operator, "operator_request", never)
    client = api(world_a.admin)
    client.get("/api/auth/me")  # warm the user cache
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/stores").status_code == 200
    assert not any("audit_auditlog" in q["sql"] for q in queries.captured_queries)


def test_the_acting_identity_cannot_be_saved(super_admin, world_a):
    access = operator.OperatorAccess(
        operator=super_admin, tenant=world_a.tenant, reason=REASON, token=None
    )
    user = operator.acting_user(access)
    assert (user.pk, user.role, user.tenant_id) == (super_admin.pk, "ADMIN", world_a.tenant.pk)
    assert (super_admin.role, super_admin.tenant_id) == ("SUPER_ADMIN", None)
    with pytest.raises(RuntimeError):
        user.save()


def test_the_websocket_ignores_operator_access(super_admin, world_a):
    from mipos.asgi import application

    token = token_pair_issue(user=super_admin).access
    socket = WebsocketCommunicator(
        application,
        f"/ws/events?token={token}",
        headers=[
            (b"host", b"localhost"),
            (b"x-act-as-tenant", str(world_a.tenant.pk).encode()),
            (b"x-act-as-reason", REASON.encode()),
        ],
    )

    async def scenario():
        assert await socket.connect() == (False, 4401)

    async_to_sync(scenario)()
    assert access_rows() == []


def test_openapi_documents_the_headers(client):
    schema = client.get("/api/schema", {"format": "json"}).json()
    parameters = schema["components"]["parameters"]
    assert parameters["ActAsTenant"]["name"] == "X-Act-As-Tenant"
    assert parameters["ActAsTenant"]["in"] == "header"
    assert parameters["ActAsReason"]["schema"] == {
        "type": "string",
        "minLength": 3,
        "maxLength": 500,
    }
    assert schema["components"]["securitySchemes"]["operatorActAsTenant"]["name"] == (
        "X-Act-As-Tenant"
    )
    assert "REAUTH_REQUIRED" in schema["info"]["description"]
