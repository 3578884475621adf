from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.tenants.models import Tenant, TenantSettings
from apps.tenants.selectors import tenant_settings_cache_clear
from apps.users.models import User
from conftest import PASSWORD
from tests.factories.catalog import gift_wrap
from tests.factories.sales import cash, checkout, line

pytestmark = pytest.mark.django_db

USERS = "/api/v1/super-admin/users"
TENANTS = "/api/v1/super-admin/tenants"


def login(client, email, password=PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


def test_list_users_across_tenants_with_filters(api, super_admin, world_a, world_b):
    client = api(super_admin)
    body = client.get(USERS, {"limit": 100}).json()
    emails = {u["email"] for u in body["data"]}
    assert {"admin@acme.test", "cashier@bravo.test", "root@platform.test"} <= emails
    only_b = client.get(USERS, {"tenantId": str(world_b.tenant.pk)}).json()["data"]
    assert sorted(u["email"] for u in only_b) == [
        "admin@bravo.test",
        "cashier@bravo.test",
        "manager@bravo.test",
    ]
    assert all(u["tenant"]["slug"] == "bravo" for u in only_b)
    cashiers = client.get(USERS, {"role": "CASHIER"}).json()["data"]
    assert sorted(u["email"] for u in cashiers) == ["cashier@acme.test", "cashier@bravo.test"]


def test_user_detail_and_404(api, super_admin, world_a):
    client = api(super_admin)
    data = client.get(f"{USERS}/{world_a.cashier.pk}").json()["data"]
    assert (data["email"], data["tenant"]["slug"], data["deleted"]) == (
        "cashier@acme.test",
        "acme",
        False,
    )
    assert client.get(f"{USERS}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_soft_delete_and_restore(api, super_admin, world_a, client):
    sa = api(super_admin)
    url = f"{USERS}/{world_a.cashier.pk}"
    deleted = sa.delete(url).json()["data"]
    assert (deleted["deleted"], deleted["isActive"]) == (True, False)
    assert login(client, world_a.cashier.email).status_code == 401
    # a deleted user disappears from the company's staff list
    staff = api(world_a.admin).get("/api/v1/users").json()["data"]
    assert "cashier@acme.test" not in [u["email"] for u in staff]
    restored = sa.patch(f"{url}/restore").json()["data"]
    assert (restored["deleted"], restored["isActive"]) == (False, True)
    assert login(client, world_a.cashier.email).status_code == 200


def test_hard_delete_of_a_user_without_history(api, super_admin, world_a):
    response = api(super_admin).delete(f"{USERS}/{world_a.cashier.pk}/hard")
    assert response.status_code == 200
    assert response.json()["data"] == {"outcome": "deleted"}
    assert not User.objects.filter(pk=world_a.cashier.pk).exists()
    entry = AuditLog.objects.get(action="user.hard_delete", entity_id=str(world_a.cashier.pk))
    assert entry.actor_id == super_admin.pk and entry.tenant_id == world_a.tenant.pk


def test_hard_delete_refused_for_a_user_with_history_unless_anonymised(
    api, super_admin, world_a, client
):
    assert login(client, world_a.cashier.email).status_code == 200  # now the cashier has acted
    sa = api(super_admin)
    url = f"{USERS}/{world_a.cashier.pk}/hard"
    refused = sa.delete(url)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "USER_HAS_HISTORY"
    assert User.objects.get(pk=world_a.cashier.pk).email == "cashier@acme.test"
    anonymised = sa.delete(url, QUERY_STRING="anonymise=true")
    assert anonymised.json()["data"] == {"outcome": "anonymised"}
    user = User.objects.get(pk=world_a.cashier.pk)
    assert user.email == f"deleted-{user.pk.hex}@anonymised.invalid"
    assert (user.name, user.phone, user.is_active, user.has_usable_password()) == (
        "Deleted user",
        "",
        False,
        False,
    )
    # the trail still points at the (anonymised) row
    assert AuditLog.objects.filter(actor=user, action="auth.login").count() == 1


def test_bulk_action_reports_each_user(api, super_admin, world_a, world_b):
    missing = "00000000-0000-0000-0000-000000000000"
    body = {
        "action": "deactivate",
        "userIds": [str(world_a.cashier.pk), missing, str(world_b.admin.pk), str(super_admin.pk)],
    }
    response = api(super_admin).post(f"{USERS}/bulk", body, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["succeeded"], data["failed"]) == (1, 3)
    outcome = {
        r["userId"]: (r["success"], r["error"] and r["error"]["code"]) for r in data["results"]
    }
    assert outcome == {
        str(world_a.cashier.pk): (True, None),
        missing: (False, "NOT_FOUND"),
        str(world_b.admin.pk): (False, "LAST_ADMIN"),  # bravo's only admin
        str(super_admin.pk): (False, "SELF_CHANGE_FORBIDDEN"),
    }
    assert User.objects.get(pk=world_a.cashier.pk).is_active is False
    assert User.objects.get(pk=world_b.admin.pk).is_active is True


def test_bulk_rejects_unknown_actions_and_empty_lists(api, super_admin):
    client = api(super_admin)
    assert (
        client.post(
            f"{USERS}/bulk", {"action": "explode", "userIds": []}, format="json"
        ).status_code
        == 400
    )


def test_reset_any_password(api, super_admin, world_b, client):
    response = api(super_admin).post(
        f"{USERS}/{world_b.admin.pk}/reset-password",
        {"newPassword": "Platform-set-2026"},
        format="json",
    )
    assert response.status_code == 200
    assert login(client, world_b.admin.email, "Platform-set-2026").status_code == 200


def test_admins_list_and_create(api, super_admin):
    client = api(super_admin)
    created = client.post(
        "/api/v1/super-admin/admins",
        {"email": "ops2@platform.test", "password": "Ops-two-2026!", "name": "Ops Two"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["data"]["role"] == "SUPER_ADMIN"
    emails = [u["email"] for u in client.get("/api/v1/super-admin/admins").json()["data"]]
    assert emails == ["ops2@platform.test", "root@platform.test"]


def test_the_last_super_admin_cannot_be_deleted(api, super_admin):
    other = User.objects.create_superuser("ops3@platform.test", PASSWORD)
    response = api(other).delete(f"{USERS}/{super_admin.pk}")
    assert response.status_code == 200  # two existed
    response = api(super_admin).delete(f"{USERS}/{other.pk}")
    assert response.status_code == 401  # root was deleted: its sessions are gone
    assert api(other).delete(f"{USERS}/{other.pk}").status_code == 422  # self


def test_stats(api, super_admin, world_a, world_b):
    data = api(super_admin).get("/api/v1/super-admin/stats").json()["data"]
    assert data["tenants"] == {"total": 2, "active": 2, "suspended": 0}
    assert data["users"] == {"total": 7, "superAdmin": 1, "admin": 2, "manager": 2, "cashier": 2}
    assert data["sales"] == {"count": 0, "volume": "0.00", "byCurrency": []}


def test_stats_count_every_checkout_per_currency(api, super_admin, world_a, world_b):
    """Two checkouts in A (USD) and one in B (EUR), through the API: counted from the companies'
    day rollup, each currency apart and all together."""
    TenantSettings.objects.filter(tenant=world_b.tenant).update(currency="EUR")
    tenant_settings_cache_clear(tenant_id=world_b.tenant.pk)
    world_b.tenant._state.fields_cache.pop("settings", None)
    wraps = {}
    for world in (world_a, world_b):
        with tenant_context(world.tenant):
            wraps[world.tenant.pk] = gift_wrap(sell_price=Decimal("1.50"))
    for world, quantity in ((world_a, "1"), (world_a, "2"), (world_b, "1")):
        wrap = wraps[world.tenant.pk]
        checkout(api(world.cashier), world, line(wrap, quantity), payments=[cash("10.00")])
    data = api(super_admin).get("/api/v1/super-admin/stats").json()["data"]
    assert data["sales"] == {
        "count": 3,
        "volume": "6.00",
        "byCurrency": [
            {"currency": "EUR", "count": 1, "volume": "1.50"},
            {"currency": "USD", "count": 2, "volume": "4.50"},
        ],
    }


def test_tenant_detail_update_suspend_restore(api, super_admin, world_a, client):
    sa = api(super_admin)
    url = f"{TENANTS}/{world_a.tenant.pk}"
    assert sa.get(url).json()["data"]["slug"] == "acme"
    assert (
        sa.patch(url, {"legalName": "ACME SA"}, format="json").json()["data"]["legalName"]
        == "ACME SA"
    )
    cashier = api(world_a.cashier)
    assert sa.post(f"{url}/suspend").json()["data"]["status"] == "SUSPENDED"
    refused = cashier.get("/api/auth/me")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "TENANT_SUSPENDED")
    again = sa.post(f"{url}/suspend")
    assert (again.status_code, again.json()["error"]["code"]) == (422, "TENANT_STATE")
    assert sa.post(f"{url}/restore").json()["data"]["status"] == "ACTIVE"
    assert cashier.get("/api/auth/me").status_code == 200
    actions = list(
        AuditLog.objects.filter(tenant=world_a.tenant, action__startswith="tenant.")
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["tenant.create", "tenant.update", "tenant.suspend", "tenant.restore"]


def test_the_template_tenant_is_not_reachable(api, super_admin, worlds):
    template = Tenant.objects.get(is_template=True)
    assert api(super_admin).get(f"{TENANTS}/{template.pk}").status_code == 404
    assert api(super_admin).post(f"{TENANTS}/{template.pk}/suspend").status_code == 404


@pytest.mark.parametrize("flag", ["null", "yes", "", "TRUE"])
def test_hard_delete_refuses_a_malformed_anonymise_flag(api, super_admin, world_a, flag):
    audit = AuditLog.objects.count()
    response = api(super_admin).delete(
        f"{USERS}/{world_a.cashier.pk}/hard", QUERY_STRING=f"anonymise={flag}"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"] == [
        {"field": "anonymise", "message": "Must be true or false."}
    ]
    assert User.objects.filter(pk=world_a.cashier.pk, is_active=True).exists()
    assert AuditLog.objects.count() == audit
