from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.stores.models import StoreAssignment
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users"


def new_user(**overrides) -> dict:
    body = {
        "email": "New.Cashier@Acme.Test",
        "password": "Fresh-pass-2026",
        "name": "Nina New",
        "role": "CASHIER",
    }
    body.update(overrides)
    return body


def test_admin_creates_a_cashier_assigned_to_stores(api, world_a):
    body = new_user(storeIds=[str(world_a.store.pk), str(world_a.other_store.pk)])
    response = api(world_a.admin).post(USERS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["email"], data["role"], data["isActive"]) == (
        "new.cashier@acme.test",
        "CASHIER",
        True,
    )
    assert sorted(data["storeIds"]) == sorted([str(world_a.store.pk), str(world_a.other_store.pk)])
    user = User.objects.get(email="new.cashier@acme.test")
    assert user.tenant == world_a.tenant
    with tenant_context(world_a.tenant):
        assert StoreAssignment.objects.filter(user_id=user.pk).count() == 2
    entry = AuditLog.objects.get(action="user.create", entity_id=str(user.pk))
    assert entry.after["store_ids"] == sorted(data["storeIds"])


def test_unknown_store_is_400_and_creates_nothing(api, world_a, world_b):
    body = new_user(storeIds=[str(world_b.store.pk)])  # another tenant's store is unknown here
    response = api(world_a.admin).post(USERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "storeIds"
    assert not User.objects.filter(email="new.cashier@acme.test").exists()


def test_duplicate_email_is_409(api, world_a, world_b):
    response = api(world_a.admin).post(USERS, new_user(email="ADMIN@bravo.test"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "email", "message": "Already in use."}]


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "OWNER"])
def test_role_must_be_a_staff_role(api, world_a, role):
    response = api(world_a.admin).post(USERS, new_user(role=role), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "role"


def test_manager_cannot_create_edit_or_deactivate_admins(api, world_a):
    client = api(world_a.manager)
    assert client.post(USERS, new_user(role="ADMIN"), format="json").status_code == 403
    admin_url = f"{USERS}/{world_a.admin.pk}"
    assert client.patch(admin_url, {"name": "Demoted"}, format="json").status_code == 403
    assert client.delete(admin_url).status_code == 403
    assert (
        client.post(
            f"{admin_url}/reset-password", {"newPassword": "Taken-over-2026"}, format="json"
        ).status_code
        == 403
    )
    # nor promote anyone to ADMIN
    cashier_url = f"{USERS}/{world_a.cashier.pk}"
    assert client.patch(cashier_url, {"role": "ADMIN"}, format="json").status_code == 403
    admin = User.objects.get(pk=world_a.admin.pk)
    assert (admin.name, admin.is_active, admin.check_password(PASSWORD)) == (
        "Admin acme",
        True,
        True,
    )
    assert User.objects.get(pk=world_a.cashier.pk).role == "CASHIER"


def test_manager_manages_cashiers(api, world_a):
    url = f"{USERS}/{world_a.cashier.pk}"
    response = api(world_a.manager).patch(
        url, {"name": "Cass", "storeIds": [str(world_a.other_store.pk)]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"]["storeIds"] == [str(world_a.other_store.pk)]
    entry = AuditLog.objects.get(action="user.update", entity_id=str(world_a.cashier.pk))
    assert entry.before == {"name": "Cashier acme", "store_ids": [str(world_a.store.pk)]}
    assert entry.after == {"name": "Cass", "store_ids": [str(world_a.other_store.pk)]}


def test_nobody_changes_their_own_role_or_deactivates_themselves(api, world_a):
    client = api(world_a.manager)
    url = f"{USERS}/{world_a.manager.pk}"
    response = client.patch(url, {"role": "CASHIER"}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "SELF_CHANGE_FORBIDDEN"
    assert client.delete(url).status_code == 422
    manager = User.objects.get(pk=world_a.manager.pk)
    assert (manager.role, manager.is_active) == ("MANAGER", True)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api, world_a):
    # a second admin tries to remove the first: fine while two exist, refused for the last one
    second = api(world_a.admin).post(USERS, new_user(role="ADMIN"), format="json").json()["data"]
    second_user = User.objects.get(pk=second["id"])
    client = api(second_user)
    assert client.delete(f"{USERS}/{world_a.admin.pk}").status_code == 200
    response = api(world_a.admin).patch(
        f"{USERS}/{second['id']}", {"role": "MANAGER"}, format="json"
    )
    assert response.status_code == 401  # the first admin's sessions were revoked on deactivation
    # the remaining admin cannot be demoted by anyone: a manager may not, and self-change is refused
    assert (
        client.patch(f"{USERS}/{second['id']}", {"role": "MANAGER"}, format="json").status_code
        == 422
    )
    assert api(world_a.manager).delete(f"{USERS}/{second['id']}").status_code == 403
    assert User.objects.get(pk=second["id"]).role == "ADMIN"


def test_an_admin_may_demote_another_admin_while_one_remains(api, world_a):
    second = api(world_a.admin).post(USERS, new_user(role="ADMIN"), format="json").json()["data"]
    client = api(User.objects.get(pk=second["id"]))
    response = client.patch(f"{USERS}/{world_a.admin.pk}", {"role": "MANAGER"}, format="json")
    assert response.status_code == 200
    assert User.objects.get(pk=world_a.admin.pk).role == "MANAGER"


def test_deactivate_revokes_sessions_and_restore_brings_the_user_back(api, world_a, client):
    cashier_client = api(world_a.cashier)
    assert cashier_client.get("/api/auth/me").status_code == 200
    url = f"{USERS}/{world_a.cashier.pk}"
    response = api(world_a.admin).delete(url)
    assert response.status_code == 200
    assert response.json()["data"]["isActive"] is False
    assert cashier_client.get("/api/auth/me").status_code == 401
    login = {"email": world_a.cashier.email, "password": PASSWORD}
    assert client.post("/api/auth/login", login, format="json").status_code == 401
    assert api(world_a.admin).patch(f"{url}/restore").json()["data"]["isActive"] is True
    assert client.post("/api/auth/login", login, format="json").status_code == 200


def test_reset_password_sets_it_and_revokes_sessions(api, world_a, client):
    cashier_client = api(world_a.cashier)
    response = api(world_a.manager).post(
        f"{USERS}/{world_a.cashier.pk}/reset-password",
        {"newPassword": "Reset-by-boss-2026"},
        format="json",
    )
    assert response.status_code == 200
    assert cashier_client.get("/api/auth/me").status_code == 401
    login = {"email": world_a.cashier.email, "password": "Reset-by-boss-2026"}
    assert client.post("/api/auth/login", login, format="json").status_code == 200
    entry = AuditLog.objects.get(action="user.reset_password", entity_id=str(world_a.cashier.pk))
    assert (entry.actor_id, entry.before, entry.after) == (world_a.manager.pk, None, None)


def test_list_filters(api, world_a, world_b):
    client = api(world_a.admin)
    emails = lambda params: sorted(u["email"] for u in client.get(USERS, params).json()["data"])  # noqa: E731
    assert emails({}) == ["admin@acme.test", "cashier@acme.test", "manager@acme.test"]
    assert emails({"role": "CASHIER"}) == ["cashier@acme.test"]
    assert emails({"storeId": str(world_a.store.pk)}) == ["cashier@acme.test", "manager@acme.test"]
    assert emails({"search": "manag"}) == ["manager@acme.test"]
    assert emails({"isActive": "false"}) == []
    bad = client.get(USERS, {"isActive": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "isActive"


def test_list_query_count_does_not_grow_with_page_size(api, world_a):
    from apps.users.services import staff_create

    with tenant_context(world_a.tenant):
        for index in range(5):
            staff_create(
                actor=world_a.admin,
                tenant=world_a.tenant,
                email=f"extra{index}@acme.test",
                password=PASSWORD,
                name=f"Extra {index}",
                role="CASHIER",
                store_ids=[world_a.store.pk],
            )
    client = api(world_a.admin)
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(USERS, {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(USERS, {"limit": 100}).json()["data"]) == 8
    assert len(large) == len(small)


def test_profile_update_changes_only_own_name_phone_avatar(api, world_a):
    response = api(world_a.cashier).patch(
        "/api/v1/users/me",
        {
            "name": "Cassie",
            "phone": "+15550100",
            "avatarUrl": "https://img.example/c.png",
            "role": "ADMIN",
        },
        format="json",
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["name"], data["phone"], data["role"]) == ("Cassie", "+15550100", "CASHIER")
    assert User.objects.get(pk=world_a.cashier.pk).role == "CASHIER"
