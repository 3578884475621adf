"""Security headers (issue 15, part 6): every API response — early refusals of the tenant routing
included — says `X-Frame-Options: DENY` and `X-Content-Type-Options: nosniff`; the platform
console (Django admin) is served under a strict Content-Security-Policy that still lets its own
fixed inline style through by hash. (The receipt pages' policy: apps/receipts/tests/test_csp.py.)"""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


ADMIN_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def assert_api_headers(response) -> None:
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_responses_deny_framing_and_sniffing(api, world_a):
    ok = api(world_a.admin).get("/api/v1/stores")
    assert ok.status_code == 200
    assert_api_headers(ok)
    assert "Content-Security-Policy" not in ok  # JSON: nothing for a policy to govern
    refused = api(world_a.cashier).get("/api/v1/audit")
    assert refused.status_code == 403
    assert_api_headers(refused)
    anonymous = Client().get("/api/v1/stores")
    assert anonymous.status_code == 401
    assert_api_headers(anonymous)


def test_early_refusals_of_the_tenant_routing_carry_them_too(api, world_a, world_b):
    wrong_host = api(world_a.admin).get("/api/v1/stores", HTTP_HOST="bravo.mipos.localhost")
    assert wrong_host.status_code == 401
    assert_api_headers(wrong_host)
    header = api(world_a.admin).get(
        "/api/v1/stores", HTTP_X_ACT_AS_TENANT=str(world_b.tenant.pk), HTTP_X_ACT_AS_REASON="why"
    )
    assert header.status_code == 403
    assert_api_headers(header)


def test_the_admin_login_page_has_the_console_policy(client):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert "<script>" not in html  # the policy allows no inline script, and none is needed
    assert 'src="/static/admin/' in html or "/static/admin/" in html


def test_the_console_pages_have_it_and_no_inline_script(super_admin):
    client = Client()
    client.force_login(super_admin)
    for path in ("/admin/", "/admin/audit/auditlog/", "/admin/tenants/tenant/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == ADMIN_POLICY
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path  # every one a file
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handler


def test_the_admin_redirect_for_anonymous_users_has_it_too():
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert response["Content-Security-Policy"] == ADMIN_POLICY


def _page_and_assets(client: Client, path: str) -> dict[str, tuple[int, bytes, dict]]:
    """The console page at `path` and every script, stylesheet and image it names, fetched
    before the browser starts (Playwright's loop in this thread forbids database calls): static
    files from the finders, anything else through the test client."""
    page = client.get(path)
    fetched = {path: (page.status_code, page.content, dict(page.headers))}
    for url in re.findall(r'(?:src|href)="(/[^"]+)"', page.content.decode()):
        url = url.replace("&amp;", "&")
        if url in fetched:
            continue
        if url.startswith("/static/"):
            found = finders.find(url.removeprefix("/static/").split("?")[0])
            if found:
                kind = "text/css" if found.endswith(".css") else "text/javascript"
                if found.endswith(".svg"):
                    kind = "image/svg+xml"
                with open(found, "rb") as handle:
                    fetched[url] = (200, handle.read(), {"Content-Type": kind})
        elif url.startswith("/admin/jsi18n"):
            response = client.get(url)
            fetched[url] = (response.status_code, response.content, dict(response.headers))
    return fetched


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_in_a_browser_enforcing_it_the_console_runs_without_a_violation(super_admin):
    from apps.receipts.tests.test_browser import CHROMIUM, FLAGS, _browser_or_skip

    sync_playwright = _browser_or_skip()
    client = Client()
    client.force_login(super_admin)
    pages = ["/admin/", "/admin/audit/auditlog/", "/admin/tenants/tenant/"]
    served = {}
    for path in pages:
        served.update(_page_and_assets(client, path))
    served.update(_page_and_assets(Client(), "/admin/login/"))
    origin = "https://console.test"

    def fulfil(route):
        path = route.request.url.removeprefix(origin)
        status, body, headers = served.get(path, (404, b"", {}))
        route.fulfill(status=status, body=body, headers=headers)

    seen: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.route(f"{origin}/**", fulfil)
            messages: list[str] = []
            page.on("console", lambda message: messages.append(message.text))
            for path in [*pages, "/admin/login/"]:
                messages.clear()
                page.goto(origin + path, wait_until="load")
                seen[path] = (
                    [text for text in messages if "Content Security Policy" in text],
                    page.evaluate(
                        """() => [document.documentElement.dataset.theme || null,
                                  typeof window.django,
                                  getComputedStyle(document.body).fontFamily]"""
                    ),
                )
        finally:
            browser.close()
    for path, (violations, (theme, django_js, font)) in seen.items():
        assert violations == [], path
        assert "Times" not in font, path  # the admin's stylesheets applied
        if path != "/admin/login/":
            assert theme == "auto", path  # theme.js ran (a script from 'self')
    assert seen["/admin/tenants/tenant/"][1][1] == "object"  # jQuery and the admin's own scripts
