"""The receipt pages' Content-Security-Policy (issue 15, part 6): nothing loads but the company's
logo, styles only by the response's nonce, the preview's print button works through one script
allowed by its hash (no inline handler), no framing — checked on the headers exactly and in a real
browser that enforces the header (headless Chromium, skipped without it as test_browser is)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from apps.receipts.tests.conftest import checkout
from apps.receipts.tests.test_browser import CHROMIUM, FLAGS, _browser_or_skip
from apps.tenants.models import Tenant
from tests.factories.sales import line

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'<style nonce="([A-Za-z0-9_-]+)">')
SCRIPT = re.compile(r"<script>([\s\S]*?)</script>")


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture
def sale(api, world_a, goods) -> dict:
    client = api(world_a.cashier)
    made = checkout(
        client, world_a, line(goods.bread, "2"), payments=[{"method": "CASH", "amount": "10.00"}]
    )
    return {"client": client, "id": made["id"]}


def preview(sale, **query):
    return sale["client"].get(f"/api/v1/receipts/sale/{sale['id']}/preview", query)


def test_the_preview_policy_is_exact(sale):
    response = preview(sale)
    assert response.status_code == 200
    html = response.content.decode()
    nonces = NONCE.findall(html)
    assert len(nonces) == 2 and len(set(nonces)) == 1  # the page's style and the receipt's
    (script,) = SCRIPT.findall(html)
    assert "window.print()" in script
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; "
        f"style-src 'nonce-{nonces[0]}'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
        f"script-src {sha256(script)}"
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "onclick" not in html
    assert len(re.findall(r"<style", html)) == 2  # every style element carries the nonce


def test_every_response_has_its_own_nonce(sale):
    first, second = preview(sale), preview(sale)
    assert NONCE.findall(first.content.decode())[0] != NONCE.findall(second.content.decode())[0]
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]


def test_the_html_format_has_no_script_at_all(sale):
    response = sale["client"].get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "html"})
    assert response.status_code == 200
    html = response.content.decode()
    (nonce,) = set(NONCE.findall(html))
    assert "<script" not in html and 'id="print"' not in html
    assert response["Content-Security-Policy"] == (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def test_the_companys_logo_origin_is_allowed_and_nothing_else(sale, world_a):
    Tenant.objects.filter(pk=world_a.tenant.pk).update(
        logo_url="https://cdn.example.com:8443/brand/logo.png?v=2"
    )
    policy = preview(sale)["Content-Security-Policy"]
    assert "img-src 'self' https://cdn.example.com:8443;" in policy


def test_the_json_fragment_carries_no_nonce(sale):
    body = sale["client"].get(f"/api/v1/receipts/sale/{sale['id']}").json()["data"]
    assert "<style>" in body["html"] and "nonce" not in body["html"]


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_in_a_browser_enforcing_the_policy_the_page_is_styled_and_prints(sale, tmp_path):
    sync_playwright = _browser_or_skip()
    response = preview(sale, paper="80mm")
    assert response.status_code == 200
    html, policy = response.content.decode(), response["Content-Security-Policy"]
    url = "https://receipts.test/preview"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 400, "height": 900})
            messages: list[str] = []
            page.on("console", lambda message: messages.append(message.text))
            page.route(
                url,
                lambda route: route.fulfill(
                    status=200,
                    body=html,
                    headers={
                        "Content-Type": "text/html; charset=utf-8",
                        "Content-Security-Policy": policy,
                    },
                ),
            )
            page.goto(url, wait_until="load")
            page.evaluate("() => { window.printed = 0; window.print = () => window.printed++; }")
            page.click("#print")
            printed = page.evaluate("() => window.printed")
            background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            receipt_font = page.evaluate(
                "() => getComputedStyle(document.querySelector('.receipt')).fontFamily"
            )
            # a script the policy does not allow really is refused in this browser
            page.evaluate(
                """() => { const s = document.createElement('script');
                           s.textContent = 'window.injected = true';
                           document.body.appendChild(s); }"""
            )
            injected = page.evaluate("() => window.injected === true")
            page.screenshot(path=str(tmp_path / "receipt-csp.png"), full_page=True)
        finally:
            browser.close()
    assert printed == 1  # the print button's script ran (allowed by its hash)
    assert background == "rgb(238, 238, 238)"  # the page's <style> applied (nonce)
    assert "monospace" in receipt_font  # the receipt's <style> applied (nonce)
    assert injected is False
    violations = [text for text in messages if "Content Security Policy" in text]
    assert len(violations) == 1, violations  # the injected script's, and only it
    assert "inline script" in violations[0]
