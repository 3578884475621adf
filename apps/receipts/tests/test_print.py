"""Which receipts are counted (issue 25, point 4): only one given to the customer — printed with
`?print=true`, or e-mailed — takes a print number. Data reads, previews (with the token or a
signed link) and documents fetched without `print=true` count nothing and never say COPY; the
first receipt given is the original and every later one is a COPY, e-mails included."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.receipts.tests.conftest import checkout, pdf_text
from apps.receipts.tests.test_links_and_email import link_of
from apps.sales.models import Sale, SaleReturn
from tests.factories.sales import line

pytestmark = pytest.mark.django_db

COPY = "*** COPY ***"


def counts(world, sale_id) -> tuple[int, int]:
    with tenant_context(world.tenant):
        sale = Sale.objects.get(pk=sale_id)
        return sale.receipt_count, sale.void_receipt_count


def receipt_actions(sale_id) -> list[tuple]:
    return list(
        AuditLog.objects.filter(entity_id=str(sale_id), action__startswith="receipt.")
        .order_by("created_at")
        .values_list("action", "after__print_number", "after__output")
    )


def test_data_reads_and_previews_count_nothing_and_never_say_copy(api, client, world_a, sale):
    cashier = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}"
    for _ in range(2):  # twice: a second look is not a copy either
        body = cashier.get(url).json()["data"]
        assert (body["data"]["copy"], body["data"]["printNumber"]) == (False, 0)
        assert COPY not in body["html"]
        for query in ({"format": "html"}, {"format": "text"}, {"format": "text", "print": "false"}):
            response = cashier.get(url, query)
            assert response.status_code == 200, response.content[:300]
            assert COPY not in response.content.decode()
        pdf = cashier.get(url, {"format": "pdf"})
        assert pdf.status_code == 200 and COPY not in pdf_text(pdf.content)[1]
        preview = cashier.get(f"{url}/preview")
        assert preview.status_code == 200 and COPY not in preview.content.decode()
        linked = client.get(link_of(api, world_a, sale["id"]))
        assert linked.status_code == 200 and COPY not in linked.content.decode()
    assert counts(world_a, sale["id"]) == (0, 0)
    assert receipt_actions(sale["id"]) == []


def test_the_first_print_is_the_original_and_every_later_one_a_copy(api, world_a, sale):
    cashier = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}"
    cashier.get(url, {"format": "html"})  # a look before printing changes nothing
    first = cashier.get(url, {"format": "text", "print": "true"})
    assert first.status_code == 200
    assert COPY not in first.content.decode()
    assert counts(world_a, sale["id"]) == (1, 0)
    # reads between prints stay originals-looking previews and count nothing
    read = cashier.get(url).json()["data"]
    assert (read["data"]["copy"], read["data"]["printNumber"], COPY in read["html"]) == (
        False, 0, False,
    )  # fmt: skip
    second = cashier.get(url, {"format": "html", "print": "true"})
    assert second.status_code == 200 and COPY in second.content.decode()
    third = cashier.get(url, {"print": "true"}).json()["data"]
    assert (third["data"]["copy"], third["data"]["printNumber"], COPY in third["html"]) == (
        True, 3, True,
    )  # fmt: skip
    assert counts(world_a, sale["id"]) == (3, 0)
    assert receipt_actions(sale["id"]) == [
        ("receipt.print", 1, "text"),
        ("receipt.reprint", 2, "html"),
        ("receipt.reprint", 3, "json"),
    ]


def test_an_emailed_receipt_is_the_original_and_a_print_after_it_a_copy(api, world_a, sale):
    cashier = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}"
    cashier.get(url)  # the till showed it on screen first: not a receipt given
    sent = cashier.post(f"{url}/email", {"to": "rita@customer.test"}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["data"]["printNumber"] == 1
    (message,) = mail.outbox
    assert COPY not in message.body and COPY not in message.alternatives[0][0]
    printed = cashier.get(url, {"format": "text", "print": "true"})
    assert printed.status_code == 200 and COPY in printed.content.decode()
    assert counts(world_a, sale["id"]) == (2, 0)
    assert [action for action, _n, _o in receipt_actions(sale["id"])] == [
        "receipt.email",
        "receipt.reprint",
    ]


def test_an_email_after_a_print_is_a_copy(api, world_a, sale):
    cashier = api(world_a.cashier)
    url = f"/api/v1/receipts/sale/{sale['id']}"
    assert COPY not in cashier.get(url, {"format": "text", "print": "true"}).content.decode()
    sent = cashier.post(f"{url}/email", {"to": "rita@customer.test"}, format="json")
    assert (sent.status_code, sent.json()["data"]["printNumber"]) == (200, 2)
    (message,) = mail.outbox
    assert COPY in message.body
    assert counts(world_a, sale["id"]) == (2, 0)


def test_void_and_return_receipts_are_counted_on_their_own_only_when_printed(api, world_a, goods):
    admin = api(world_a.admin)
    sale = checkout(admin, world_a, line(goods.oil, "2"), line(goods.bread))
    with tenant_context(world_a.tenant):
        oil = Sale.objects.get(pk=sale["id"]).items.get(position=0)
    returned = admin.post(
        f"/api/v1/sales/{sale['id']}/return",
        {
            "items": [{"itemId": str(oil.pk), "quantity": "1"}],
            "refundMethod": "CARD",
            "reason": "Broken",
        },
        format="json",
    )
    assert returned.status_code == 201, returned.content
    return_id = returned.json()["data"]["id"]
    url = f"/api/v1/receipts/sale/{sale['id']}"
    looked = admin.get(url, {"returnId": return_id}).json()["data"]["data"]
    assert (looked["document"], looked["copy"], looked["printNumber"]) == ("RETURN", False, 0)
    first = admin.get(url, {"returnId": return_id, "format": "text", "print": "true"})
    second = admin.get(url, {"returnId": return_id, "format": "text", "print": "true"})
    assert (COPY in first.content.decode(), COPY in second.content.decode()) == (False, True)
    with tenant_context(world_a.tenant):
        assert SaleReturn.objects.get(pk=return_id).receipt_count == 2
    assert counts(world_a, sale["id"]) == (0, 0)  # the sale's own receipt is still unprinted

    other = checkout(admin, world_a, line(goods.wine))
    voided = admin.post(f"/api/v1/sales/{other['id']}/void", {"reason": "Wrong"}, format="json")
    assert voided.status_code == 200, voided.content
    url = f"/api/v1/receipts/sale/{other['id']}"
    assert COPY not in admin.get(url, {"document": "VOID", "format": "html"}).content.decode()
    assert counts(world_a, other["id"]) == (0, 0)
    first = admin.get(url, {"document": "VOID", "format": "html", "print": "true"})
    second = admin.get(url, {"document": "VOID", "print": "true"}).json()["data"]["data"]
    assert COPY not in first.content.decode()
    assert (second["copy"], second["printNumber"]) == (True, 2)
    assert counts(world_a, other["id"]) == (0, 2)


def test_a_malformed_print_flag_is_a_400_and_counts_nothing(api, world_a, sale):
    response = api(world_a.cashier).get(
        f"/api/v1/receipts/sale/{sale['id']}", {"format": "text", "print": "yes"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"][0]["field"]) == ("VALIDATION_ERROR", "print")
    assert counts(world_a, sale["id"]) == (0, 0)
    assert receipt_actions(sale["id"]) == []
