"""The password-reset e-mail links to `PUBLIC_URL/reset-password?token=…` (settings.PUBLIC_URL,
default where `make run` serves), and that page exists: a form (the new password twice) whose
script, a static file the page's CSP allows, posts to `POST /api/auth/reset-password` and shows
the answer. Checked in headless Chromium when it is installed (see
apps/receipts/tests/test_browser.py), the API answering through Django's test client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client, override_settings

from apps.core.mail import mail_sent_wait
from apps.core.views import PAGE_POLICY
from apps.receipts.tests.test_browser import CHROMIUM, FLAGS, _browser_or_skip
from apps.users.models import User

pytestmark = pytest.mark.django_db

FORGOT = "/api/auth/forgot-password"
NEW = "Recovered-horse-45"


def mailed_link(client, email: str, capture) -> str:
    with capture(execute=True):
        assert client.post(FORGOT, {"email": email}, format="json").status_code == 200
    mail_sent_wait()
    (message,) = mail.outbox
    return re.search(r"^(http\S+)$", message.body, re.MULTILINE).group(1)


@override_settings(PUBLIC_URL="https://pos.shop.example:8443")
def test_the_emailed_link_starts_with_public_url_and_opens_the_page(
    client, world_a, django_capture_on_commit_callbacks
):
    link = mailed_link(client, world_a.manager.email, django_capture_on_commit_callbacks)
    token = re.fullmatch(
        r"https://pos\.shop\.example:8443/reset-password\?token=([\w-]{43})", link
    ).group(1)
    response = Client().get(link.removeprefix("https://pos.shop.example:8443"))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == PAGE_POLICY
    assert (response["Cache-Control"], response["Referrer-Policy"]) == ("no-store", "no-referrer")
    html = response.content.decode()
    assert f'<input type="hidden" name="token" value="{token}">' in html
    assert '<form id="reset" method="post" data-endpoint="/api/auth/reset-password"' in html
    assert html.count('type="password"') == 2
    assert '<script src="/static/site/reset-password.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP allows none


@override_settings(PASSWORD_RESET_URL="https://app.shop.example/#/reset/{token}")
def test_a_reset_page_of_ones_own_takes_precedence(
    client, world_a, django_capture_on_commit_callbacks
):
    link = mailed_link(client, world_a.manager.email, django_capture_on_commit_callbacks)
    assert re.fullmatch(r"https://app\.shop\.example/#/reset/[\w-]{43}", link)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "http://localhost:5000"),
        ({"PORT": "8123"}, "http://localhost:8123"),
        ({"PORT": "8123", "PUBLIC_URL": "https://pos.example.com/"}, "https://pos.example.com"),
    ],
)
def test_public_url_defaults_to_where_make_run_serves(environment, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_URL")}
    code = "import mipos.settings.base as s; print(s.PUBLIC_URL, repr(s.PASSWORD_RESET_URL))"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, **environment}, cwd=settings.BASE_DIR,
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out == [expected, "''"]


def test_without_a_token_the_page_says_so_and_shows_no_form():
    response = Client().get("/reset-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "This link has no reset token." in html and "<form" not in html


def test_the_page_only_reads():
    assert Client().post("/reset-password?token=abc", {"password": "x"}).status_code == 405


def test_the_script_is_served_from_static():
    response = Client().get("/static/site/reset-password.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = b"".join(response.streaming_content).decode()
    source = Path(settings.BASE_DIR, "static/site/reset-password.js").read_text()
    assert body == source and "fetch(form.dataset.endpoint, {" in body


ORIGIN = "http://mipos.test"


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_in_a_browser_the_form_resets_the_password_once(
    client, world_a, django_capture_on_commit_callbacks, monkeypatch, tmp_path
):
    """Every request of the page is answered by Django's test client (the page's origin is
    routed to it), so the form's post really resets the password. Two different entries post
    nothing; the second use of the link shows the API's refusal."""
    sync_playwright = _browser_or_skip()
    user = world_a.manager
    with override_settings(PUBLIC_URL=ORIGIN):
        link = mailed_link(client, user.email, django_capture_on_commit_callbacks)
    before = User.objects.get(pk=user.pk).password
    # Playwright's handlers run while its event loop runs in this thread, where Django would
    # refuse database calls and keep its connections per asyncio context: it is told that the
    # calls are safe and handed this test's connection (inside the test's transaction)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ours = connections[DEFAULT_DB_ALIAS]
    django = Client()

    def call(method, *args):
        connections[DEFAULT_DB_ALIAS] = ours
        return method(*args)

    posted: list[tuple[str, bytes]] = []

    def answer(route):
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        if request.method == "POST":
            posted.append((path, request.post_data_buffer))
            content_type = request.headers["content-type"]
            response = call(django.post, path, request.post_data_buffer, content_type)
        else:
            response = call(django.get, path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = {
            name: response[name]
            for name in ("Content-Type", "Content-Security-Policy", "Referrer-Policy")
            if name in response
        }
        route.fulfill(status=response.status_code, body=body, headers=headers)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.route(f"{ORIGIN}/**", answer)
            page.goto(link, wait_until="load")
            styled = page.evaluate("() => getComputedStyle(document.querySelector('main')).width")

            page.fill("#password", NEW)
            page.fill("#confirmation", NEW + "!")
            page.click("button[type=submit]")
            differ = page.inner_text("#outcome")
            page.wait_for_timeout(200)
            posted_when_different = list(posted)

            page.fill("#confirmation", NEW)
            page.click("button[type=submit]")
            page.wait_for_selector("#outcome.ok")
            done, form_hidden = page.inner_text("#outcome"), page.is_hidden("#reset")
            page.screenshot(path=str(tmp_path / "reset-done.png"), full_page=True)

            page.goto(link, wait_until="load")  # the same link again
            page.fill("#password", "Another-horse-46")
            page.fill("#confirmation", "Another-horse-46")
            page.click("button[type=submit]")
            page.wait_for_selector("#outcome.error")
            refused = page.inner_text("#outcome")
        finally:
            browser.close()

    assert styled == "576px"  # site.css (max-width 36rem) loaded under the page's policy
    assert differ == "The two entries differ: type the same password twice."
    assert posted_when_different == []
    token = link.rsplit("=", 1)[1]
    assert posted[0] == (
        "/api/auth/reset-password",
        f'{{"token":"{token}","newPassword":"{NEW}"}}'.encode(),
    )
    assert (done, form_hidden) == ("Password changed. Sign in with the new password.", True)
    assert refused == (
        "This reset link is invalid or has expired. Ask for a new one. Invalid, used or expired."
    )
    stored = User.objects.get(pk=user.pk)
    assert stored.password != before and stored.check_password(NEW)
    assert [text for text in console if "Content Security Policy" in text] == []
