"""The console driven in a real browser (issue 29's first acceptance point): headless Chromium
(Debian's `chromium`, driven by Playwright) against `make run`'s server (gunicorn, development
settings) on a free port and the test database. A super admin signs in, adds a company with an
owner on a plan, sees its usage at 0, the owner creates a store through the API and the usage
moves to 1, the plan changes, the company is suspended (the owner's token gets 403) and
reactivated, and the company page shows the audit entries, asserted in the database too.

Screenshots of the dashboard, the company page and the plans list are saved to
`artifacts/console/` at the repository's root (CONSOLE_SCREENSHOTS overrides), CI's artifacts.
Everything the test commits (the operator, the plans, the company, their audit rows and
sessions) is removed at the end. Without Chromium or Playwright it is skipped (CI=1: fails)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Q
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.receipts.tests.test_browser import CHROMIUM, FLAGS, _browser_or_skip
from apps.tenants.models import Package, Tenant, TenantStatus
from apps.tenants.services import package_create
from apps.users.models import User
from apps.users.services import super_admin_ensure
from conftest import PASSWORD
from tests.factories.http import json_call

pytestmark = pytest.mark.slow  # a server process and Chromium

ROOT = Path(settings.BASE_DIR)
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or ROOT / "artifacts" / "console")
SERVER = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn_dev.conf.py"]
START_SECONDS = 30
OWNER_PASSWORD = "Owner-pass-2026!"
REASONS = {
    "plan": "Upgrade asked for by the owner, ticket 101",
    "suspend": "Invoice unpaid for 60 days, ticket 102",
    "reactivate": "Invoice paid, ticket 103",
}


@pytest.fixture
def sync_playwright():
    """Playwright's sync API, or the skip (CI: the failure) before anything is committed."""
    return _browser_or_skip()


@dataclass
class Platform:
    """What the test commits before the browser starts, and what it must remove after."""

    suffix: str
    operator: User
    small: Package  # max_stores=3: the company starts on it
    large: Package  # max_stores=10: the plan it moves to
    active_before: int
    suspended_before: int
    session_keys: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"console-{self.suffix}"

    @property
    def owner_email(self) -> str:
        return f"owner@{self.slug}.test"


@pytest.fixture
def platform(worlds, django_db_blocker):
    """A committed super admin, two plans; at the end they, the company the console created and
    every audit row, token and session of theirs are removed."""
    suffix = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        operator = super_admin_ensure(
            email=f"operator-{suffix}@platform.test", password=PASSWORD, name="Console operator"
        )
        # The session's super admin has the test settings' MD5 hash, which the server's
        # (development) hashers refuse; PBKDF2 is one of them (encoded here without settings).
        hasher = PBKDF2PasswordHasher()
        User.objects.filter(pk=operator.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
        small = package_create(
            actor=operator, name=f"Small {suffix}", price=Decimal("19.00"), max_stores=3
        )
        large = package_create(
            actor=operator, name=f"Large {suffix}", price=Decimal("49.00"), max_stores=10
        )
        companies = Tenant.objects.filter(is_template=False)
        made = Platform(
            suffix=suffix,
            operator=operator,
            small=small,
            large=large,
            active_before=companies.filter(status=TenantStatus.ACTIVE).count(),
            suspended_before=companies.filter(status=TenantStatus.SUSPENDED).count(),
        )
    yield made
    with django_db_blocker.unblock(), audit_maintenance():
        companies = list(Tenant.objects.filter(slug=made.slug))  # none if the add failed
        users = list(User.objects.filter(Q(pk=operator.pk) | Q(tenant__in=companies)))
        entities = [str(pk) for pk in (small.pk, large.pk, *(user.pk for user in users))]
        AuditLog.objects.filter(
            Q(actor__in=users) | Q(entity_id__in=entities) | Q(tenant__in=companies)
        ).delete()
        OutstandingToken.objects.filter(user__in=users).delete()
        Session.objects.filter(session_key__in=made.session_keys).delete()
        User.objects.filter(pk__in=[user.pk for user in users]).delete()
        for company in companies:
            company.delete(force_drop=True)
        Package.objects.filter(pk__in=[small.pk, large.pk]).delete()
        connection.set_schema_to_public()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(platform, django_db_blocker, tmp_path):
    """The base URL of `make run`'s server on the test database; killed at the end."""
    with django_db_blocker.unblock():
        url = urlparse(os.environ["DATABASE_URL"])
        database = urlunparse(url._replace(path=f"/{connection.settings_dict['NAME']}"))
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mipos.settings.dev",
        "DATABASE_URL": database,
        "PORT": str(port),
        "DEV_RELOAD": "0",  # other files of the checkout may change during the run
        "CONSOLE_DASHBOARD_SECONDS": "0",  # figures of this run, not a cached dashboard
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            SERVER, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                if process.poll() is not None:
                    log = log_path.read_text()
                    pytest.fail(f"the server exited ({process.returncode}):\n{log}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"no answer within {START_SECONDS} s:\n{log_path.read_text()}")
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _cells(page, selector: str) -> list[list[str]]:
    """The text of each cell (th and td) of each row matched by `selector`."""
    return page.eval_on_selector_all(
        selector, "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"
    )


def _act(page, base: str, company_url: str, action: str, reason: str, plan: str | None = None):
    """An action of the company page: its link, its form (the reason, a plan), back on the page."""
    page.click(f"#action-{action}")
    page.wait_for_selector("#action-form")
    if plan is not None:
        page.select_option("#action-form select[name=plan]", label=plan)
    page.fill("#action-form textarea[name=reason]", reason)
    page.click("#action-submit")
    page.wait_for_url(base + company_url)


def test_an_operator_runs_a_company_from_the_console(
    sync_playwright, platform, server, django_db_blocker
):
    base = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = f"Console Shop {platform.suffix}"
    seen: dict = {}
    # The browser after every database call and before the next: Playwright's sync API runs an
    # event loop in this thread, and Django refuses database calls from it (the server writes).
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()

            # 1. sign in
            page.goto(base + "/admin/login/?next=/admin/")
            page.fill("#id_username", platform.operator.email)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(base + "/admin/")
            platform.session_keys += [
                cookie["value"] for cookie in context.cookies() if cookie["name"] == "sessionid"
            ]
            seen["title"] = page.title()
            seen["header"] = page.inner_text("#site-name")

            # 2. the dashboard, before the company
            seen["companies_card"] = _cells(page, "#companies-card tr")

            # 3. add a company with an owner on the small plan
            page.goto(base + "/admin/tenants/tenant/add/")
            page.fill("input[name=name]", name)
            page.fill("input[name=slug]", platform.slug)
            page.fill("input[name=owner_name]", "Olive Owner")
            page.fill("input[name=owner_email]", platform.owner_email)
            page.fill("input[name=owner_password]", OWNER_PASSWORD)
            page.select_option("select[name=plan]", label=platform.small.name)
            page.fill("textarea[name=reason]", "New customer signed up, ticket 100")
            page.click("#company-add-submit")
            page.wait_for_url("**/admin/tenants/tenant/*/change/")
            company_url = urlparse(page.url).path
            seen["company_id"] = company_url.split("/")[-3]
            seen["created_message"] = page.inner_text("ul.messagelist li")
            seen["created_plan"] = page.inner_text("#company-plan")
            seen["created_status"] = page.inner_text("#company-status")

            # 4. in the list with usage 0
            row = f"#result_list tbody tr:has(a:text-is('{name}'))"
            page.goto(base + f"/admin/tenants/tenant/?q={platform.slug}")
            seen["list_before"] = _cells(page, row)

            # 5. the owner signs in through the API and creates a store; the usage moves to 1
            status, login = json_call(
                base,
                "POST",
                "/api/auth/login",
                {"email": platform.owner_email, "password": OWNER_PASSWORD},
            )
            assert status == 200, login
            token = login["data"]["accessToken"]
            status, store = json_call(
                base, "POST", "/api/v1/stores", {"name": "Main street", "code": "MAIN"}, token
            )
            assert status == 201, store
            seen["store"] = (store["data"]["name"], store["data"]["code"], store["data"]["kind"])
            page.reload()
            seen["list_after"] = _cells(page, row)

            # 6. change the plan
            page.goto(base + company_url)
            _act(page, base, company_url, "plan", REASONS["plan"], plan=platform.large.name)
            seen["plan_message"] = page.inner_text("ul.messagelist li")
            seen["plan"] = page.inner_text("#company-plan")
            seen["usage"] = _cells(page, "section#usage tbody tr")

            # 7. suspend: the owner's token is refused; reactivate: accepted again
            _act(page, base, company_url, "suspend", REASONS["suspend"])
            seen["suspended_status"] = page.inner_text("#company-status")
            seen["suspended_links"] = (
                page.locator("#action-suspend").count(),
                page.locator("#action-reactivate").count(),
            )
            status, body = json_call(base, "GET", "/api/auth/me", token=token)
            seen["me_suspended"] = (status, body["error"]["code"])
            _act(page, base, company_url, "reactivate", REASONS["reactivate"])
            seen["reactivated_status"] = page.inner_text("#company-status")
            status, body = json_call(base, "GET", "/api/auth/me", token=token)
            seen["me_reactivated"] = (status, body["data"]["email"])

            # 8. the company's audit entries, newest first
            seen["audit"] = [
                cells[1:3] for cells in _cells(page, "section#audit tbody tr")
            ]  # (action, by)
            page.screenshot(path=str(SCREENSHOTS / "company.png"), full_page=True)

            # 9. the dashboard (the company now among those closest to their limits) and plans
            page.goto(base + "/admin/")
            seen["companies_card_after"] = _cells(page, "#companies-card tr")
            seen["limits"] = _cells(page, f"#limits-card tbody tr:has(a:text-is('{name}'))")
            page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
            page.goto(base + "/admin/tenants/package/")
            seen["plans"] = {
                plan: _cells(page, f"#result_list tbody tr:has(a:text-is('{plan}'))")
                for plan in (platform.small.name, platform.large.name)
            }
            page.screenshot(path=str(SCREENSHOTS / "plans.png"), full_page=True)
        finally:
            browser.close()

    assert (seen["title"], seen["header"]) == (
        "Dashboard | MIPOS platform console",
        f"MIPOS platform console v{settings.MIPOS_VERSION}",
    )
    active, suspended = platform.active_before, platform.suspended_before
    assert seen["companies_card"][:2] == [["Active", str(active)], ["Suspended", str(suspended)]]
    assert seen["created_message"] == f"Company {name} created; owner: {platform.owner_email}."
    assert (seen["created_plan"], seen["created_status"]) == (platform.small.name, "Active")
    # name, slug, plan, status, stores, users, products, sales this month, created
    assert [cells[1:8] for cells in seen["list_before"]] == [
        [platform.slug, platform.small.name, "Active", "0 / 3", "1", "0", "0"]
    ]
    assert seen["store"] == ("Main street", "MAIN", "RETAIL")
    assert [cells[1:8] for cells in seen["list_after"]] == [
        [platform.slug, platform.small.name, "Active", "1 / 3", "1", "0", "0"]
    ]
    assert (seen["plan_message"], seen["plan"]) == ("Plan changed.", platform.large.name)
    assert seen["usage"][0] == ["Stores", "1", "10"]
    assert seen["suspended_status"] == "Suspended"
    assert seen["suspended_links"] == (0, 1)
    assert seen["me_suspended"] == (403, "TENANT_SUSPENDED")
    assert seen["reactivated_status"] == "Active"
    assert seen["me_reactivated"] == (200, platform.owner_email)
    operator, owner = platform.operator.email, platform.owner_email
    assert seen["audit"] == [
        ["tenant.restore", operator],
        ["tenant.suspend", operator],
        ["tenant.update", operator],
        ["store.create", owner],
        ["auth.login", owner],
        ["tenant.create", operator],
    ]
    assert seen["companies_card_after"][:2] == [
        ["Active", str(active + 1)],
        ["Suspended", str(suspended)],
    ]
    assert seen["limits"] == [[name, platform.large.name, "1 / 10", "0", "1", "0", "0", "10%"]]
    # stores, warehouses, users, products, sales per month, features, rate, price, companies
    plan_rest = ["unlimited"] * 4 + ["-", "platform default"]
    assert seen["plans"] == {
        platform.small.name: [[platform.small.name, "3", *plan_rest, "USD 19.00 / month", "0"]],
        platform.large.name: [[platform.large.name, "10", *plan_rest, "USD 49.00 / month", "1"]],
    }
    for shot in ("dashboard.png", "company.png", "plans.png"):
        assert (SCREENSHOTS / shot).stat().st_size > 10_000

    with django_db_blocker.unblock():
        company = Tenant.objects.get(slug=platform.slug)
        assert str(company.pk) == seen["company_id"]
        assert (company.status, company.package_id) == (TenantStatus.ACTIVE, platform.large.pk)
        owner = User.objects.get(email=owner)
        rows = list(
            AuditLog.objects.filter(tenant=company, actor=platform.operator)
            .order_by("created_at", "id")
            .values_list("action", "entity_id", "before", "after")
        )
        console_logins = list(
            AuditLog.objects.filter(actor=platform.operator, action="auth.login").values_list(
                "tenant_id", "after"
            )
        )
    assert (owner.role, owner.name, owner.tenant_id) == ("ADMIN", "Olive Owner", company.pk)
    small, large, id_ = str(platform.small.pk), str(platform.large.pk), str(company.pk)
    assert rows == [
        (
            "tenant.create",
            id_,
            None,
            {
                "name": name,
                "slug": platform.slug,
                "status": "ACTIVE",
                "ownerId": str(owner.pk),
                "ownerEmail": owner.email,
                "packageId": small,
                "reason": "New customer signed up, ticket 100",
            },
        ),
        (
            "tenant.update",
            id_,
            {"package_id": small},
            {"package_id": large, "reason": REASONS["plan"]},
        ),
        (
            "tenant.suspend",
            id_,
            {"status": "ACTIVE"},
            {"status": "SUSPENDED", "reason": REASONS["suspend"]},
        ),
        (
            "tenant.restore",
            id_,
            {"status": "SUSPENDED"},
            {"status": "ACTIVE", "reason": REASONS["reactivate"]},
        ),
    ]
    assert console_logins == [(None, {"channel": "console"})]
