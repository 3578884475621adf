"""Receipts of sales, voids and returns: the data equals what the sale stored, to the cent; every
print after the first is a COPY; gift receipts show no prices; user text is escaped."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.receipts.tests.conftest import LONG_NAME, checkout, pdf_text
from apps.sales.models import Sale, SaleReturn
from tests.factories.sales import line

pytestmark = pytest.mark.django_db

D = Decimal


def receipt(client, sale_id, **query):
    response = client.get(f"/api/v1/receipts/sale/{sale_id}", query)
    assert response.status_code == 200, response.content[:500]
    return response


def stored(world, model, pk):
    with tenant_context(world.tenant):
        return model.objects.get(pk=pk)


@pytest.fixture
def multi_rate_sale(api, world_a, goods):
    """3 lines at 23 %, 6 % and 13 %, a 10 % cart discount, cash 50.00 (change due); rung up by
    the manager (20 % off in all: beyond a cashier's own discount limit)."""
    return checkout(
        api(world_a.manager),
        world_a,
        line(goods.oil, "2"),
        line(goods.bread, "3"),
        line(goods.wine, "1", discount={"type": "AMOUNT", "value": "1.40"}),
        payments=[{"method": "CASH", "amount": "50.00"}],
        discount={"type": "PERCENT", "value": "10"},
        customerId=str(goods.customer.pk),
    )


def test_sale_receipt_totals_equal_the_stored_sale(api, world_a, multi_rate_sale):
    body = receipt(api(world_a.cashier), multi_rate_sale["id"]).json()["data"]
    data, sale = body["data"], stored(world_a, Sale, multi_rate_sale["id"])
    assert data["totals"] == {
        "subtotal": str(sale.subtotal),
        "discountTotal": str(sale.discount_total),
        "taxTotal": str(sale.tax_total),
        "roundingAdjustment": str(sale.rounding_adjustment),
        "total": str(sale.total),
    }
    assert (data["document"], data["number"], data["copy"], data["printNumber"]) == (
        "SALE", sale.number, False, 0,
    )  # fmt: skip  # a data read, not a print
    with tenant_context(world_a.tenant):
        lines = list(sale.items.order_by("position"))
    assert [(i["name"], i["quantity"], i["total"], i["tax"]) for i in data["items"]] == [
        (x.name, str(x.quantity), str(x.line_total), str(x.tax_amount)) for x in lines
    ]
    # one row per rate; the bases and taxes add up to the sale's
    assert [row["rate"] for row in data["taxSummary"]] == ["6.00", "13.00", "23.00"]
    assert sum(D(row["tax"]) for row in data["taxSummary"]) == sale.tax_total
    assert sum(D(r["base"]) + D(r["tax"]) for r in data["taxSummary"]) == sum(
        x.line_total for x in lines
    )
    assert data["changeDue"] == str(sale.change_due) and sale.change_due > 0
    assert data["payments"] == [{"method": "CASH", "amount": "50.00", "reference": ""}]
    assert data["cashier"]["name"] == world_a.manager.name
    assert data["customer"]["code"] == "C-RCPT1"
    assert data["qrPayload"] == sale.number
    assert data["loyalty"]["balance"] >= 0
    assert sale.total.to_eng_string() in body["html"] or "TOTAL" in body["html"]


def test_every_print_after_the_first_is_a_copy(api, world_a, multi_rate_sale):
    client = api(world_a.cashier)
    sale_id = multi_rate_sale["id"]
    first = receipt(client, sale_id, print="true").json()["data"]
    second = receipt(client, sale_id, format="text", print="true")
    third = receipt(client, sale_id, format="html", print="true")
    assert (first["data"]["copy"], "COPY" in first["html"]) == (False, False)
    assert "*** COPY ***" in second.content.decode()
    assert "*** COPY ***" in third.content.decode()
    assert stored(world_a, Sale, sale_id).receipt_count == 3
    actions = list(
        AuditLog.objects.filter(entity_id=str(sale_id), action__startswith="receipt.")
        .order_by("created_at")
        .values_list("action", "after__print_number", "after__output")
    )
    assert actions == [
        ("receipt.print", 1, "json"),
        ("receipt.reprint", 2, "text"),
        ("receipt.reprint", 3, "html"),
    ]


def test_gift_receipt_has_no_prices(api, world_a, multi_rate_sale, goods):
    response = receipt(api(world_a.cashier), multi_rate_sale["id"], gift="true")
    body = response.json()["data"]
    data = body["data"]
    assert data["title"] == "Gift receipt"
    assert data["items"] == [
        {"name": LONG_NAME, "sku": "R-OIL", "quantity": "2.000"},
        {"name": "Bread", "sku": "R-BREAD", "quantity": "3.000"},
        {"name": "Red wine", "sku": "R-WINE", "quantity": "1.000"},
    ]
    assert (data["totals"], data["taxSummary"], data["payments"], data["changeDue"]) == (
        None, [], [], None,
    )  # fmt: skip
    for price in ("7.99", "15.98", "12.40", "50.00"):
        assert price not in body["html"]


def test_user_text_is_escaped_in_html_and_pdf(api, world_a, goods):
    client = api(world_a.admin)
    put = client.put(
        "/api/v1/receipts/template",
        {"header": "<img src=x onerror=alert(2)>", "footer": "Thanks & see you"},
        format="json",
    )
    assert put.status_code == 200, put.content
    sale = checkout(client, world_a, line(goods.script), customerId=str(goods.customer.pk))
    html = receipt(client, sale["id"], format="html").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "Rita &lt;b&gt;Receipts&lt;/b&gt;" in html and "<b>Receipts" not in html
    assert "Thanks &amp; see you" in html
    _pages, text = pdf_text(receipt(client, sale["id"], format="pdf").content)
    assert "<script>alert(1)</script>" in text  # printed as the text it is


def test_pdf_of_ten_items_is_one_page_at_80mm(api, world_a, goods):
    client = api(world_a.admin)
    items = [line(goods.bread, "1")] * 5 + [line(goods.wine, "1")] * 5
    sale = checkout(client, world_a, *items)
    stored_sale = stored(world_a, Sale, sale["id"])
    response = receipt(client, sale["id"], format="pdf", paper="80mm")
    assert response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages == 1
    assert stored_sale.number in text
    assert str(stored_sale.total) in text.replace(",", "")


def test_void_and_return_receipts(api, world_a, goods):
    client = api(world_a.admin)
    sale = checkout(
        client, world_a, line(goods.oil, "2"), line(goods.bread, "1"),
        payments=[{"method": "CASH", "amount": "50.00"}],
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        oil_item = Sale.objects.get(pk=sale["id"]).items.get(position=0)
    returned = client.post(
        f"/api/v1/sales/{sale['id']}/return",
        {"items": [{"itemId": str(oil_item.pk), "quantity": "1"}], "refundMethod": "CASH",
         "reason": "Leaking"},
        format="json",
    )  # fmt: skip
    assert returned.status_code == 201, returned.content
    sale_return = stored(world_a, SaleReturn, returned.json()["data"]["id"])
    data = receipt(client, sale["id"], returnId=str(sale_return.pk), print="true").json()
    data = data["data"]["data"]
    assert (data["document"], data["number"], data["saleNumber"]) == (
        "RETURN", sale_return.number, sale["number"],
    )  # fmt: skip
    assert data["totals"]["total"] == str(sale_return.refund_total)
    assert data["reason"] == "Leaking"
    assert [(i["name"], i["quantity"]) for i in data["items"]] == [(LONG_NAME, "1.000")]
    assert stored(world_a, SaleReturn, sale_return.pk).receipt_count == 1
    # a sale that is not voided has no void receipt
    refused = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"document": "VOID"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "INVALID_STATE"
    assert stored(world_a, Sale, sale["id"]).void_receipt_count == 0
    other = checkout(client, world_a, line(goods.wine))
    voided = client.post(f"/api/v1/sales/{other['id']}/void", {"reason": "Twice"}, format="json")
    assert voided.status_code == 200, voided.content
    data = receipt(client, other["id"], document="VOID", print="true").json()["data"]["data"]
    sale_now = stored(world_a, Sale, other["id"])
    assert (data["document"], data["title"], data["totals"]["total"], data["reason"]) == (
        "VOID", "Void", str(sale_now.total), "Twice",
    )  # fmt: skip
    assert data["payments"] == [{"method": "CARD", "amount": str(-sale_now.total), "reference": ""}]
    assert (sale_now.void_receipt_count, sale_now.receipt_count) == (1, 0)


def test_times_are_in_the_stores_time_zone(api, world_a, goods):
    from datetime import datetime

    from apps.stores.models import Store

    with tenant_context(world_a.tenant):
        Store.objects.filter(pk=world_a.store.pk).update(timezone="America/New_York")
    client = api(world_a.cashier)
    sale = checkout(client, world_a, line(goods.bread))
    data = receipt(client, sale["id"]).json()["data"]["data"]
    utc = datetime.fromisoformat(data["issuedAt"].replace("Z", "+00:00"))
    local = datetime.fromisoformat(data["issuedAtLocal"])
    assert data["timeZone"] == "America/New_York"
    assert local == utc and local.utcoffset().total_seconds() == -5 * 3600  # EST in December


def test_pdf_with_a_remote_logo_renders_without_fetching_it(api, world_a, goods, monkeypatch):
    """Issue 26 point 4: a company logo URL made the PDF a 500 (WeasyPrint 70 wants a fetcher
    object). The PDF renders without the image and nothing is fetched from the network."""
    import socket
    import urllib.request

    from apps.tenants.models import Tenant

    client = api(world_a.admin)
    sale = checkout(client, world_a, line(goods.bread, "1"))
    Tenant.objects.filter(pk=world_a.tenant.pk).update(
        logo_url="http://logo.example.com/brand/logo.png"
    )
    attempts: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        attempts.append(f"resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def opener_open(self, url, *args, **kwargs):
        attempts.append(f"open {getattr(url, 'full_url', url)}")
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", opener_open)

    html = client.get(f"/api/v1/receipts/sale/{sale['id']}").json()["data"]["html"]
    assert 'src="http://logo.example.com/brand/logo.png"' in html  # the logo is on the receipt
    response = receipt(client, sale["id"], format="pdf")

    assert response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages == 1
    assert stored(world_a, Sale, sale["id"]).number in text
    assert [a for a in attempts if "logo.example.com" in a or a.startswith("open")] == []
