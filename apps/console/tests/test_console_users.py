"""The console's user pages: platform admins (add, deactivate, reactivate, force logout) and
company users (read-only, deactivate, reset password). Every action asks for a reason, goes
through the API's service and leaves an audit row with the operator and the reason; a refusal
changes nothing. Framework internals (groups, token blacklist) are not shown."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client, RequestFactory

from apps.audit.models import AuditLog
from apps.core.errors import BusinessRuleViolation
from apps.users import services
from apps.users.admin import PlatformAdminAdmin
from apps.users.models import PlatformAdmin, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADMINS = "/admin/users/platformadmin/"
COMPANY_USERS = "/admin/users/companyuser/"
REASON = "Ticket OPS-17: leaves the company"


def console(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": user.email, "password": password})
    assert response.status_code == 302
    return client


@pytest.fixture
def ops(super_admin) -> User:
    """A second platform admin."""
    return User.objects.create_superuser("ops@platform.test", PASSWORD, name="Ops Two")


def act(client: Client, url: str, action: str, users, reason: str | None = REASON):
    """Selects `users` and runs `action`: the confirmation page when `reason` is None, else its
    POST with the reason."""
    data = {"action": action, "_selected_action": [str(user.pk) for user in users]}
    if reason is not None:
        data |= {"confirm": "yes", "reason": reason}
    return client.post(url, data)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- framework internals hidden ----------------------------------------------------------------
def test_the_index_shows_user_pages_and_no_framework_internals(super_admin):
    client = console(super_admin)
    html = client.get("/admin/").content.decode()
    for shown in ("Platform admins", "Company users", "Audit trail"):
        assert shown in html
    for hidden in ("Groups", "Token Blacklist", "Outstanding", "Blacklisted", "Permissions"):
        assert hidden not in html
    for url in (
        "/admin/auth/group/",
        "/admin/auth/permission/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/token_blacklist/blacklistedtoken/",
        "/admin/users/user/",
    ):
        assert client.get(url).status_code == 404, url


# --- platform admins ---------------------------------------------------------------------------
def test_platform_admins_lists_super_admins_only(super_admin, ops, world_a):
    client = console(super_admin)
    page = client.get(ADMINS)
    assert page.status_code == 200
    listed = [user.email for user in page.context["cl"].result_list]
    assert listed == ["ops@platform.test", "root@platform.test"]
    html = page.content.decode()
    for column in ("Email", "Name", "Active", "Last login", "Created at"):
        assert column in html
    assert "Add platform admin" in html


def test_add_platform_admin_through_the_service(super_admin):
    client = console(super_admin)
    form = client.get(f"{ADMINS}add/")
    assert form.status_code == 200
    response = client.post(
        f"{ADMINS}add/",
        {
            "email": "New.Ops@Platform.test",
            "name": "New Ops",
            "password1": "Ops-three-2026!",
            "password2": "Ops-three-2026!",
            "reason": "Night shift cover",
        },
    )
    assert (response.status_code, response["Location"]) == (302, ADMINS)
    created = User.objects.get(email="new.ops@platform.test")
    assert (created.role, created.tenant_id, created.name) == ("SUPER_ADMIN", None, "New Ops")
    assert created.check_password("Ops-three-2026!")
    entry = AuditLog.objects.get(action="user.create", entity_id=str(created.pk))
    assert entry.actor_id == super_admin.pk
    assert entry.tenant_id is None
    assert entry.after == {
        "email": "new.ops@platform.test",
        "name": "New Ops",
        "role": "SUPER_ADMIN",
        "reason": "Night shift cover",
    }
    assert "new.ops@platform.test" in [
        user.email for user in client.get(ADMINS).context["cl"].result_list
    ]
    assert console(created, "Ops-three-2026!").get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("email", "password1", "password2", "field", "error"),
    [
        ("weak@platform.test", "short", "short", "password1", "This password is too short."),
        ("weak@platform.test", "password123", "password123", "password1", "too common"),
        ("weak@platform.test", "Ops-three-2026!", "Ops-three-2027!", "password2", "differ"),
        ("root@platform.test", "Ops-three-2026!", "Ops-three-2026!", "email", "Already in use."),
    ],
)
def test_add_platform_admin_refusals_change_nothing(
    super_admin, email, password1, password2, field, error
):
    client = console(super_admin)
    users, audits = User.objects.count(), AuditLog.objects.count()
    response = client.post(
        f"{ADMINS}add/",
        {
            "email": email,
            "name": "Weak",
            "password1": password1,
            "password2": password2,
            "reason": "Night shift cover",
        },
    )
    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].errors[field])
    assert (User.objects.count(), AuditLog.objects.count()) == (users, audits)


def test_add_platform_admin_needs_a_reason(super_admin):
    client = console(super_admin)
    response = client.post(
        f"{ADMINS}add/",
        {
            "email": "new@platform.test",
            "name": "New",
            "password1": "Ops-three-2026!",
            "password2": "Ops-three-2026!",
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert not User.objects.filter(email="new@platform.test").exists()


def test_deactivate_asks_for_a_reason_then_deactivates(super_admin, ops, api):
    client = console(super_admin)
    audits = AuditLog.objects.count()
    page = act(client, ADMINS, "deactivate", [ops], reason=None)
    assert page.status_code == 200
    html = page.content.decode()
    assert "ops@platform.test" in html and 'name="reason"' in html
    short = act(client, ADMINS, "deactivate", [ops], reason="no")
    assert short.status_code == 200
    assert short.context["form"].errors["reason"] == [
        "Ensure this value has at least 3 characters (it has 2)."
    ]
    ops.refresh_from_db()
    assert ops.is_active and AuditLog.objects.count() == audits  # nothing changed yet

    token = api(ops)
    done = act(client, ADMINS, "deactivate", [ops])
    assert (done.status_code, done["Location"]) == (302, ADMINS)
    ops.refresh_from_db()
    assert ops.is_active is False
    entry = AuditLog.objects.get(action="user.deactivate", entity_id=str(ops.pk))
    assert entry.actor_id == super_admin.pk
    assert entry.after == {"is_active": False, "reason": REASON}
    assert token.get("/api/auth/me").status_code == 401  # its sessions ended
    assert "Deactivated: 1 done." in messages_of(client.get(ADMINS))
    history = client.get(f"{ADMINS}{ops.pk}/history/")
    assert history["Location"] == (f"/admin/audit/auditlog/?entity_type=user&entity_id={ops.pk}")
    trail = client.get(history["Location"])
    assert [row.action for row in trail.context["cl"].result_list] == ["user.deactivate"]


def test_an_operator_cannot_deactivate_themselves(super_admin, ops):
    client = console(super_admin)
    audits = AuditLog.objects.count()
    response = act(client, ADMINS, "deactivate", [super_admin])
    assert response.status_code == 302
    assert messages_of(client.get(ADMINS)) == [
        "root@platform.test: You cannot deactivate yourself."
    ]
    super_admin.refresh_from_db()
    assert super_admin.is_active and AuditLog.objects.count() == audits


def test_the_last_active_super_admin_is_never_deactivated_from_the_console(super_admin, ops):
    """Two operators deactivating each other at the same moment: the second one's action (its
    request began while it was still active) is refused, so one super admin stays."""
    request = RequestFactory().post(
        ADMINS,
        {"action": "deactivate", "_selected_action": [str(ops.pk)], "confirm": "yes"}
        | {"reason": REASON},
    )
    request.user = User.objects.get(pk=super_admin.pk)  # loaded as the request began
    request.session = {}
    request._messages = FallbackStorage(request)
    services.staff_deactivate(actor=ops, user_id=super_admin.pk, reason="the other one")
    audits = AuditLog.objects.count()

    page = PlatformAdminAdmin(PlatformAdmin, admin.site)
    assert page.deactivate(request, PlatformAdmin.objects.filter(pk=ops.pk)) is None
    assert [str(message) for message in request._messages] == [
        "ops@platform.test: The platform must keep at least one active super admin."
    ]
    ops.refresh_from_db()
    assert ops.is_active and AuditLog.objects.count() == audits


def test_the_last_active_super_admin_is_never_deactivated_by_the_api(super_admin, ops, api):
    stale_root = User.objects.get(pk=super_admin.pk)
    services.staff_deactivate(actor=ops, user_id=super_admin.pk)
    with pytest.raises(BusinessRuleViolation) as refused:
        services.staff_deactivate(actor=stale_root, user_id=ops.pk)
    assert refused.value.code == "LAST_ADMIN"
    # the one left cannot take itself out either
    response = api(ops).post(
        "/api/v1/super-admin/users/bulk",
        {"action": "deactivate", "userIds": [str(ops.pk)]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["data"]["results"][0]["error"]["code"] == "SELF_CHANGE_FORBIDDEN"
    assert User.objects.get(pk=ops.pk).is_active


def test_reactivate_platform_admin(super_admin, ops):
    services.staff_deactivate(actor=super_admin, user_id=ops.pk)
    client = console(super_admin)
    assert act(client, ADMINS, "reactivate", [ops]).status_code == 302
    ops.refresh_from_db()
    assert ops.is_active
    entry = AuditLog.objects.get(action="user.restore", entity_id=str(ops.pk))
    assert (entry.actor_id, entry.after) == (super_admin.pk, {"is_active": True, "reason": REASON})
    assert console(ops).get("/admin/").status_code == 200


def test_force_logout_ends_every_session_and_token(super_admin, ops, api):
    token = api(ops)
    assert token.get("/api/auth/me").status_code == 200
    ops_console = console(ops)
    assert ops_console.get("/admin/").status_code == 200
    client = console(super_admin)

    assert act(client, ADMINS, "force_logout", [ops]).status_code == 302
    assert token.get("/api/auth/me").status_code == 401
    assert ops_console.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    entry = AuditLog.objects.get(action="auth.logout_all", entity_id=str(ops.pk))
    assert (entry.actor_id, entry.tenant_id, entry.after) == (
        super_admin.pk,
        None,
        {"reason": REASON},
    )
    ops.refresh_from_db()
    assert ops.is_active  # signed out, not deactivated
    assert "Signed out: 1 done." in messages_of(client.get(ADMINS))


def test_api_logout_all_is_unchanged(world_a, api):
    response = api(world_a.cashier).post("/api/auth/logout-all")
    assert response.status_code == 200
    entry = AuditLog.objects.get(action="auth.logout_all", entity_id=str(world_a.cashier.pk))
    assert (entry.actor_id, entry.tenant_id, entry.after) == (
        world_a.cashier.pk,
        world_a.tenant.pk,
        None,
    )


# --- company users -----------------------------------------------------------------------------
def listed(client: Client, query: str = "") -> list[str]:
    page = client.get(f"{COMPANY_USERS}{query}")
    assert page.status_code == 200
    return [user.email for user in page.context["cl"].result_list]


def test_company_users_list_filters_and_search(super_admin, world_a, world_b):
    client = console(super_admin)
    everyone = listed(client)
    assert "root@platform.test" not in everyone
    assert {"admin@acme.test", "cashier@bravo.test"} <= set(everyone)
    assert listed(client, f"?tenant={world_a.tenant.pk}") == [
        "admin@acme.test",
        "cashier@acme.test",
        "manager@acme.test",
    ]
    assert listed(client, "?tenant=bravo") == [
        "admin@bravo.test",
        "cashier@bravo.test",
        "manager@bravo.test",
    ]  # by slug, typed in: the sidebar lists no companies
    assert listed(client, "?role__exact=CASHIER") == ["cashier@acme.test", "cashier@bravo.test"]
    assert listed(client, "?q=manager%40bravo") == ["manager@bravo.test"]
    assert listed(client, "?q=Admin+acme") == ["admin@acme.test"]
    services.staff_deactivate(actor=world_b.admin, user_id=world_b.cashier.pk)
    assert "cashier@bravo.test" in listed(client, "?active=no")
    assert "cashier@bravo.test" not in listed(client, "?active=yes")
    html = client.get(COMPANY_USERS).content.decode()
    assert "Company ACME" in html and "Template (do not use)" not in html


def test_company_users_are_read_only(super_admin, world_a):
    client = console(super_admin)
    url = f"{COMPANY_USERS}{world_a.cashier.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "cashier@acme.test" in html and 'name="_save"' not in html
    for secret in ("md5$", "Password", "Pin hash", "Token version"):
        assert secret not in html  # the hash (MD5 in tests), the PIN, the token version
    assert client.get(f"{COMPANY_USERS}add/").status_code == 403
    assert client.post(url, {"name": "Changed"}).status_code == 403
    assert client.post(f"{COMPANY_USERS}{world_a.cashier.pk}/delete/").status_code == 403
    assert User.objects.get(pk=world_a.cashier.pk).name == world_a.cashier.name


def test_company_user_deactivate_with_a_reason(super_admin, world_a, api):
    client = console(super_admin)
    assert act(client, COMPANY_USERS, "deactivate", [world_a.cashier]).status_code == 302
    assert api(world_a.cashier).get("/api/auth/me").status_code == 401
    entry = AuditLog.objects.get(action="user.deactivate", entity_id=str(world_a.cashier.pk))
    assert (entry.actor_id, entry.tenant_id, entry.after) == (
        super_admin.pk,
        world_a.tenant.pk,
        {"is_active": False, "reason": REASON},
    )


def test_company_user_deactivate_refuses_the_last_admin(super_admin, world_a):
    client = console(super_admin)
    audits = AuditLog.objects.count()
    act(client, COMPANY_USERS, "deactivate", [world_a.admin])
    assert messages_of(client.get(COMPANY_USERS)) == [
        "admin@acme.test: A company must keep at least one active admin."
    ]
    assert User.objects.get(pk=world_a.admin.pk).is_active
    assert AuditLog.objects.count() == audits


def test_company_user_reset_password_with_a_reason(super_admin, world_a, client):
    console_client = console(super_admin)
    reset = act(console_client, COMPANY_USERS, "reset_password", [world_a.cashier])
    assert reset.status_code == 302
    assert "messages" not in reset.cookies  # the temporary password stays on the server
    shown = messages_of(console_client.get(COMPANY_USERS))
    assert shown[0].startswith("cashier@acme.test: temporary password ")
    temporary = shown[0].rsplit(" ", 1)[1]
    assert shown[1] == "Passwords reset: 1 done."
    entry = AuditLog.objects.get(action="user.reset_password", entity_id=str(world_a.cashier.pk))
    assert (entry.actor_id, entry.tenant_id, entry.after) == (
        super_admin.pk,
        world_a.tenant.pk,
        {"reason": REASON},
    )
    login = {"email": "cashier@acme.test"}
    old = client.post("/api/auth/login", login | {"password": PASSWORD}, format="json")
    assert old.status_code == 401
    new = client.post("/api/auth/login", login | {"password": temporary}, format="json")
    assert new.status_code == 200
