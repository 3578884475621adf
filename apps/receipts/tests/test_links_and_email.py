"""Signed preview links (open without a token, for 10 minutes, as the user who made them, for
that sale only) and receipts sent by e-mail (rate-limited, audited, nothing recorded on failure)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.receipts.links import receipt_link_sign
from apps.receipts.tests.conftest import checkout
from apps.sales.models import Sale
from apps.tenants.models import Tenant
from apps.users.models import User
from tests.factories.sales import line

pytestmark = pytest.mark.django_db


def receipt_count(world, sale_id) -> int:
    with tenant_context(world.tenant):
        return Sale.objects.get(pk=sale_id).receipt_count


def link_of(api, world, sale_id) -> str:
    response = api(world.cashier).get(f"/api/v1/receipts/sale/{sale_id}/link")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    expires = timezone.datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(seconds=590) < expires - timezone.now() <= timedelta(seconds=600)
    url = urlsplit(data["url"])
    assert url.path == f"/api/v1/receipts/sale/{sale_id}/preview"
    return f"{url.path}?{url.query}"


def test_a_link_opens_the_preview_without_a_token(client, api, world_a, sale):
    path = link_of(api, world_a, sale["id"])
    response = client.get(path + "&paper=58mm")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert sale["number"] in page and 'id="print"' in page and "@media print" in page
    assert "max-width: 58mm" in page
    # a preview is not a receipt given: not counted, not audited as a print, never a COPY
    assert "*** COPY ***" not in page and client.get(path).status_code == 200
    assert "*** COPY ***" not in client.get(path).content.decode()
    assert receipt_count(world_a, sale["id"]) == 0
    assert not AuditLog.objects.filter(action__startswith="receipt.").exists()


def test_a_link_expires_after_ten_minutes(client, api, world_a, sale):
    path = link_of(api, world_a, sale["id"])
    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        response = client.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert receipt_count(world_a, sale["id"]) == 0


def test_a_tampered_link_or_another_sale_is_refused(client, api, world_a, goods, sale):
    path = link_of(api, world_a, sale["id"])
    other = checkout(api(world_a.cashier), world_a, line(goods.oil))
    refusals = [
        path[:-3] + ("abc" if not path.endswith("abc") else "xyz"),  # signature altered
        path.replace(sale["id"], other["id"]),  # a link is for its own sale only
        f"/api/v1/receipts/sale/{sale['id']}/preview?signature=",
    ]
    for refused in refusals:
        response = client.get(refused)
        assert response.status_code == 401, (refused, response.content[:200])
    assert (receipt_count(world_a, sale["id"]), receipt_count(world_a, other["id"])) == (0, 0)


def test_a_link_dies_with_its_user_session_or_company(client, api, world_a, sale):
    path = link_of(api, world_a, sale["id"])
    User.objects.filter(pk=world_a.cashier.pk).update(
        token_version=world_a.cashier.token_version + 1
    )
    assert client.get(path).status_code == 401  # signed out everywhere
    User.objects.filter(pk=world_a.cashier.pk).update(token_version=world_a.cashier.token_version)
    assert client.get(path).status_code == 200
    Tenant.objects.filter(pk=world_a.tenant.pk).update(status="SUSPENDED")
    suspended = client.get(path)
    assert (suspended.status_code, suspended.json()["error"]["code"]) == (403, "TENANT_SUSPENDED")
    Tenant.objects.filter(pk=world_a.tenant.pk).update(status="ACTIVE")
    User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
    assert client.get(path).status_code == 401
    assert receipt_count(world_a, sale["id"]) == 0  # previews are never counted


def test_a_link_signed_for_another_company_finds_nothing(client, world_a, world_b, sale):
    """Even a validly signed link can only reach the company it names: B's user with A's
    sale id is not found in B's schema."""
    signature, _ = receipt_link_sign(user=world_b.cashier, sale_id=sale["id"])
    response = client.get(f"/api/v1/receipts/sale/{sale['id']}/preview?signature={signature}")
    assert response.status_code == 404
    assert sale["number"] not in response.content.decode()
    assert receipt_count(world_a, sale["id"]) == 0


def test_email_sends_the_receipt(api, world_a, sale):
    response = api(world_a.cashier).post(
        f"/api/v1/receipts/sale/{sale['id']}/email", {"to": "rita@customer.test"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {
        "to": "rita@customer.test", "number": sale["number"], "printNumber": 1,
    }  # fmt: skip
    (message,) = mail.outbox
    assert message.to == ["rita@customer.test"]
    assert message.subject == f"Company ACME: Sale receipt {sale['number']}"
    assert sale["number"] in message.body and "TOTAL" in message.body
    ((html, mime),) = message.alternatives
    assert mime == "text/html" and sale["number"] in html
    entry = AuditLog.objects.filter(action="receipt.email").get()
    assert entry.after["to"] == "rita@customer.test"


def test_email_is_rate_limited(api, world_a, sale):
    client = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}/email"
    for _ in range(5):  # the test settings allow 5 an hour
        assert client.post(url, {"to": "a@b.test"}, format="json").status_code == 200
    refused = client.post(url, {"to": "a@b.test"}, format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert (len(mail.outbox), receipt_count(world_a, sale["id"])) == (5, 5)


def test_email_validation_and_a_refusing_mail_server_change_nothing(api, world_a, sale):
    client = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}/email"
    audit = AuditLog.objects.count()
    bad = client.post(url, {"to": "not an address"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "to"
    with override_settings(EMAIL_BACKEND="apps.receipts.tests.test_links_and_email.Refusing"):
        down = client.post(url, {"to": "a@b.test"}, format="json")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert (receipt_count(world_a, sale["id"]), AuditLog.objects.count(), mail.outbox) == (
        0, audit, [],
    )  # fmt: skip


class Refusing:
    """A mail backend whose server refuses the connection."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server")
