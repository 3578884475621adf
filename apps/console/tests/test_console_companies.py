"""The companies in the console: list with usage (query count constant in the companies), add
company, the company page and each action through the services, with its audit row and reason;
refusals change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.core.mail import mail_sent_wait
from apps.stores.services import store_create
from apps.tenants.models import Package, Tenant, TenantSalesDay, TenantUsage
from apps.tenants.services import package_create, tenant_create, tenant_suspend
from apps.users.models import PasswordResetToken, User
from conftest import PASSWORD
from tests.factories.sales import sale_make

pytestmark = pytest.mark.django_db

COMPANIES = "/admin/tenants/tenant/"
REASON = "Customer asked by e-mail, ticket 4711"


@pytest.fixture
def console(super_admin) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


@pytest.fixture
def starter(super_admin) -> Package:
    return package_create(
        actor=super_admin, name="Starter", price=Decimal("19.00"), max_stores=2, max_products=50
    )


def a_company(slug: str, package=None) -> Tenant:
    return tenant_create(
        name=f"Company {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name=f"Owner {slug}",
        package_id=package.pk if package else None,
    ).tenant


def list_queries(console: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = console.get(COMPANIES)
    assert page.status_code == 200
    return len(queries)


def test_the_company_list_shows_usage_against_the_plan(console, world_a, starter):
    company = a_company("usage-co", starter)
    with tenant_context(company):
        owner = User.objects.get(email="owner@usage-co.test")
        store_create(actor=owner, name="Main", code="M1")
    html = console.get(COMPANIES + "?q=usage-co").content.decode()
    assert "Company usage-co" in html and "Starter" in html
    assert '<td class="field-stores_usage">1 / 2</td>' in html
    assert '<td class="field-users_usage">1</td>' in html  # no user limit on this plan
    assert '<td class="field-products_usage">0 / 50</td>' in html
    assert "Template (do not use)" not in console.get(COMPANIES).content.decode()


def test_the_company_list_costs_the_same_queries_for_more_companies(console, world_a, starter):
    before = list_queries(console)
    for n in range(3):
        a_company(f"many-{n}", starter if n % 2 else None)
    assert Tenant.objects.filter(is_template=False).count() >= 5
    assert list_queries(console) == before


def test_filters_by_plan_and_status(console, world_a, starter):
    a_company("on-starter", starter)
    html = console.get(COMPANIES + f"?plan={starter.pk}").content.decode()
    assert "Company on-starter" in html and world_a.tenant.name not in html
    html = console.get(COMPANIES + "?plan=none&status__exact=ACTIVE").content.decode()
    assert world_a.tenant.name in html and "Company on-starter" not in html


def test_add_company_runs_tenant_create_with_its_audit_row(console, super_admin, starter):
    response = console.post(
        COMPANIES + "add/",
        {
            "name": "Nova Shop",
            "slug": "nova-shop",
            "owner_name": "Nova Owner",
            "owner_email": "owner@nova.test",
            "owner_password": PASSWORD,
            "plan": str(starter.pk),
            "reason": REASON,
        },
    )
    company = Tenant.objects.get(slug="nova-shop")
    assert (
        response.status_code == 302 and response["Location"] == f"{COMPANIES}{company.pk}/change/"
    )
    assert company.package_id == starter.pk
    usage = TenantUsage.objects.get(tenant=company)
    assert (usage.stores, usage.warehouses, usage.products) == (0, 0, 0)
    owner = User.objects.get(email="owner@nova.test")
    assert (owner.tenant_id, owner.role, owner.check_password(PASSWORD)) == (
        company.pk,
        "ADMIN",
        True,
    )
    entry = AuditLog.objects.get(action="tenant.create", entity_id=str(company.pk))
    assert entry.actor_id == super_admin.pk and entry.after["packageId"] == str(starter.pk)
    assert entry.after["reason"] == REASON


def test_add_company_without_a_password_invites_the_owner(
    console, super_admin, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            COMPANIES + "add/",
            {
                "name": "Invited",
                "slug": "invited",
                "owner_name": "Ivy",
                "owner_email": "ivy@invited.test",
                "owner_password": "",
                "reason": REASON,
            },
        )
    mail_sent_wait()
    assert response.status_code == 302
    owner = User.objects.get(email="ivy@invited.test")
    assert not owner.has_usable_password()
    assert PasswordResetToken.objects.filter(user=owner).count() == 1
    assert [message.subject for message in mailoutbox] == ["You are invited to Invited on MIPOS"]
    assert "/reset-password?token=" in mailoutbox[0].body
    entry = AuditLog.objects.get(action="user.invitation_send", entity_id=str(owner.pk))
    assert entry.actor_id == super_admin.pk


def test_add_company_refusal_shows_on_the_form_and_creates_nothing(console, world_a):
    companies = Tenant.objects.count()
    response = console.post(
        COMPANIES + "add/",
        {
            "name": "Dup",
            "slug": world_a.tenant.slug,
            "owner_name": "X",
            "owner_email": "x@dup.test",
            "owner_password": PASSWORD,
            "reason": REASON,
        },
    )
    assert response.status_code == 200
    assert "Already in use." in response.content.decode()
    assert Tenant.objects.count() == companies
    assert not User.objects.filter(email="x@dup.test").exists()


def test_the_company_page_shows_plan_usage_settings_admins_and_audit(console, world_a):
    call_command("usage_recount")  # other tests' committed clean-ups bypass the services
    html = console.get(f"{COMPANIES}{world_a.tenant.pk}/change/").content.decode()
    assert f"{world_a.tenant.slug}.mipos.localhost (primary)" in html
    assert "admin@acme.test" in html  # the owner
    assert '<th scope="row">Currency</th><td>USD</td>' in html
    assert '<th scope="row">Stores</th><td class="">2</td><td>unlimited</td>' in html
    assert "tenant.create" in html  # its audit entries
    assert (
        console.get(f"{COMPANIES}{Tenant.objects.get(is_template=True).pk}/change/").status_code
        == 404
    )


def test_suspend_and_reactivate_with_a_reason(console, super_admin, world_a, api):
    url = f"{COMPANIES}{world_a.tenant.pk}/"
    assert console.post(url + "suspend/", {"reason": ""}).status_code == 200  # reason required
    assert Tenant.objects.get(pk=world_a.tenant.pk).status == "ACTIVE"
    response = console.post(url + "suspend/", {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == url + "change/"
    refused = api(world_a.cashier).get("/api/auth/me")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "TENANT_SUSPENDED")
    entry = AuditLog.objects.get(action="tenant.suspend", tenant=world_a.tenant)
    assert (entry.actor_id, entry.after) == (
        super_admin.pk,
        {"status": "SUSPENDED", "reason": REASON},
    )
    assert console.post(url + "reactivate/", {"reason": "Paid"}).status_code == 302
    assert api(world_a.cashier).get("/api/auth/me").status_code == 200
    entry = AuditLog.objects.get(action="tenant.restore", tenant=world_a.tenant)
    assert entry.after == {"status": "ACTIVE", "reason": "Paid"}


def test_change_plan_is_enforced_on_the_next_request(console, super_admin, world_a, api, starter):
    tiny = package_create(actor=super_admin, name="Tiny", price=Decimal("1.00"), max_products=1)
    url = f"{COMPANIES}{world_a.tenant.pk}/plan/"
    assert console.post(url, {"plan": str(tiny.pk), "reason": REASON}).status_code == 302
    assert Tenant.objects.get(pk=world_a.tenant.pk).package_id == tiny.pk
    entry = AuditLog.objects.get(action="tenant.update", tenant=world_a.tenant, actor=super_admin)
    assert entry.after == {"package_id": str(tiny.pk), "reason": REASON}
    refused = api(world_a.admin).post(
        "/api/v1/products", {"name": "One more", "sku": "ONE-MORE"}, format="json"
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "PLAN_LIMIT_REACHED")
    # the same plan again: refused on the page, no second audit row
    again = console.post(url, {"plan": str(tiny.pk), "reason": REASON})
    assert again.status_code == 200 and "already on this plan" in again.content.decode()
    assert AuditLog.objects.filter(action="tenant.update", tenant=world_a.tenant).count() == 1


def test_owner_link_sends_a_password_reset_to_an_owner_with_a_password(
    console, super_admin, world_a, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(f"{COMPANIES}{world_a.tenant.pk}/owner-link/", {"reason": REASON})
    mail_sent_wait()
    assert response.status_code == 302
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("Reset your MIPOS password", [world_a.admin.email])
    ]
    entry = AuditLog.objects.get(action="user.reset_send", entity_id=str(world_a.admin.pk))
    assert (entry.actor_id, entry.after["reason"]) == (super_admin.pk, REASON)
    assert User.objects.get(pk=world_a.admin.pk).check_password(PASSWORD)  # still works


def test_open_as_operator_shows_the_company_read_only_and_audits_each_page(
    console, super_admin, world_a
):
    url = f"{COMPANIES}{world_a.tenant.pk}/operator/"
    form = console.get(url)
    assert form.status_code == 200 and "Open as operator" in form.content.decode()
    assert not AuditLog.objects.filter(action="operator.access", actor=super_admin).exists()
    with tenant_context(world_a.tenant):
        sale_make(
            store=world_a.store,
            cashier_id=world_a.cashier.pk,
            product=world_a.product,
            sequence=901,
        )
    assert console.post(url, {"reason": REASON}).status_code == 302
    page = console.get(url).content.decode()
    assert "INV-S1-000901" in page and world_a.cashier.email in page and world_a.store.name in page
    rows = AuditLog.objects.filter(action="operator.access", actor=super_admin)
    assert sorted(str(row.tenant_id) for row in rows) == sorted([str(world_a.tenant.pk), "None"])
    assert {row.after["reason"] for row in rows} == {REASON}
    console.get(url)
    assert (
        AuditLog.objects.filter(action="operator.access", actor=super_admin).count() == 4
    )  # each page shown: one row on each trail


def test_delete_a_company_without_sales_keeps_the_platform_row(console, super_admin, starter):
    company = a_company("doomed", starter)
    schema = company.schema_name
    active = console.post(f"{COMPANIES}{company.pk}/erase/", {"reason": REASON, "confirm_slug": ""})
    assert active.status_code == 200 and "Suspend the company first" in active.content.decode()
    assert Tenant.objects.filter(pk=company.pk).exists()
    tenant_suspend(actor=super_admin, tenant=company)
    response = console.post(
        f"{COMPANIES}{company.pk}/erase/", {"reason": REASON, "confirm_slug": ""}
    )
    assert response.status_code == 302 and response["Location"] == COMPANIES
    assert not Tenant.objects.filter(pk=company.pk).exists()
    assert not User.objects.filter(email="owner@doomed.test").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [schema])
        assert cursor.fetchone()[0] == 0
    entry = AuditLog.objects.get(action="tenant.delete", entity_id=str(company.pk))
    assert (entry.tenant_id, entry.actor_id) == (None, super_admin.pk)
    before = entry.before
    assert (before["slug"], before["hadSales"], before["users"]) == ("doomed", False, 1)
    assert entry.after == {"reason": REASON}


def test_delete_a_company_with_sales_needs_its_slug_typed(console, super_admin, world_b):
    url = f"{COMPANIES}{world_b.tenant.pk}/erase/"
    tenant_suspend(actor=super_admin, tenant=world_b.tenant)  # rolled back with the test
    with tenant_context(world_b.tenant):
        sale_make(
            store=world_b.store,
            cashier_id=world_b.cashier.pk,
            product=world_b.product,
            sequence=902,
        )
    refused = console.post(url, {"reason": REASON, "confirm_slug": "wrong"})
    assert refused.status_code == 200
    assert f"Type {world_b.tenant.slug} to confirm." in refused.content.decode()
    assert Tenant.objects.filter(pk=world_b.tenant.pk).exists()
    assert User.objects.filter(tenant=world_b.tenant).count() == 3
    assert not AuditLog.objects.filter(action="tenant.delete").exists()


def test_the_dashboard_shows_the_platform(console, world_a, starter):
    a_company("dash-co", starter)
    TenantSalesDay.objects.create(
        tenant=world_a.tenant, day="2020-01-01", sales_count=5, sales_total=Decimal("9.00")
    )
    html = console.get("/admin/").content.decode()
    assert "<title>Dashboard | MIPOS platform console</title>" in html
    assert "Closest to their plan limits" in html and "Company dash-co" in html
    assert '<th scope="row">Database</th><td class="console-state-up">up</td>' in html
    assert '<td class="console-state-up-to-date">up to date</td>' in html


def test_the_dashboard_counts_schemas_behind_the_template(console, world_a, world_b, settings):
    """From what creation and `migrate` recorded: a company at another migration state is behind,
    one never recorded (made before the record existed) is named so."""
    settings.CONSOLE_DASHBOARD_SECONDS = 0
    Tenant.objects.filter(pk=world_a.tenant.pk).update(migrations_digest="0" * 32)
    Tenant.objects.filter(pk=world_b.tenant.pk).update(migrations_digest="")
    html = console.get("/admin/").content.decode()
    assert "1 behind (run migrate), 1 not recorded (run migrate)" in html


@pytest.mark.parametrize("role", [None, "ADMIN", "MANAGER", "CASHIER"])
def test_only_super_admins_reach_the_company_pages_and_actions(world_a, role):
    client = Client()
    if role is not None:
        client.force_login(world_a.user(role))  # a company user's session: not staff
    company = world_a.tenant.pk
    for url in (
        COMPANIES,
        f"{COMPANIES}add/",
        f"{COMPANIES}{company}/change/",
        f"{COMPANIES}{company}/operator/",
        "/admin/",
    ):
        response = client.get(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (
            302,
            "/admin/login/",
        ), url
    for action in ("suspend", "plan", "erase", "owner-link", "operator"):
        response = client.post(
            f"{COMPANIES}{company}/{action}/",
            {"reason": REASON, "confirm_slug": world_a.tenant.slug},
        )
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Tenant.objects.get(pk=company).status == "ACTIVE"
    assert not AuditLog.objects.filter(
        action__in=["tenant.suspend", "tenant.delete", "operator.access"]
    ).exists()


def test_the_console_password_change_goes_through_the_service(super_admin, api):
    """Same rules and audit as the API's change; the operator's tokens end, this session goes on."""
    client = Client()
    client.post("/admin/login/", {"username": super_admin.email, "password": PASSWORD})
    token_client = api(super_admin)
    assert token_client.get("/api/auth/me").status_code == 200
    page = client.get("/admin/password_change/")
    assert page.status_code == 200 and "View site" not in page.content.decode()
    wrong = client.post(
        "/admin/password_change/",
        {
            "old_password": "not-it",
            "new_password1": "New-horse-43-x",
            "new_password2": "New-horse-43-x",
        },
    )
    assert wrong.status_code == 200
    assert User.objects.get(pk=super_admin.pk).check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="auth.change_password").exists()
    done = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "New-horse-43-x",
            "new_password2": "New-horse-43-x",
        },
    )
    assert (done.status_code, done["Location"]) == (302, "/admin/password_change/done/")
    assert User.objects.get(pk=super_admin.pk).check_password("New-horse-43-x")
    entry = AuditLog.objects.get(action="auth.change_password", entity_id=str(super_admin.pk))
    assert entry.actor_id == super_admin.pk
    assert token_client.get("/api/auth/me").status_code == 401  # its tokens ended
    assert client.get("/admin/").status_code == 200  # this session goes on


def test_wrong_current_passwords_in_the_console_spend_the_login_budget(super_admin, api, settings):
    """A session left open is no way to guess the password: each wrong current password counts
    against the account's login budget; once spent, even the right one is refused, here and at
    the API's login."""
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    client = Client()
    client.force_login(super_admin)
    change = {"new_password1": "New-horse-43-x", "new_password2": "New-horse-43-x"}
    for _ in range(3):
        wrong = client.post("/admin/password_change/", change | {"old_password": "not-it"})
        assert (
            wrong.status_code == 200 and "Current password is incorrect." in wrong.content.decode()
        )
    spent = client.post("/admin/password_change/", change | {"old_password": PASSWORD})
    assert spent.status_code == 200 and "Too many" in spent.content.decode()
    assert User.objects.get(pk=super_admin.pk).check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="auth.change_password").exists()
    login = api().post(
        "/api/auth/login", {"email": super_admin.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 429
