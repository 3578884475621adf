"""Issue 26, point 11: cash tendered has an upper bound. The change one sale may give is at most
the larger of ten times what the cash pays and the currency's ceiling (1,000 units for most;
more for currencies whose unit is worth little): above it, 422 OVERPAYMENT naming the cash
tender, nothing written — on the checkout and on the quote alike."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.core.errors import BusinessRuleViolation
from apps.sales.pricing import Tender, change_limit, settle
from apps.sales.tests.conftest import sales_state
from apps.sales.tests.test_checkout import body
from tests.factories.sales import CHECKOUT, cash, line
from tests.factories.tenants import company

QUOTE = "/api/v1/sales/quote"


@pytest.mark.parametrize("url", [CHECKOUT, QUOTE])
def test_absurd_cash_is_refused_and_nothing_is_written(api, world_a, shelf, url):
    before = sales_state(world_a)
    response = api(world_a.cashier).post(
        url,
        body(
            world_a,
            line(shelf.beans),  # 24.00
            payments=[{"method": "CARD", "amount": "4.00"}, cash("999999999999.99")],
        ),
        format="json",
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "OVERPAYMENT"
    # the cash pays 20.00: change up to max(10 x 20.00, 1,000) = 1,000.00, cash up to 1,020.00
    assert error["details"] == [
        {"field": "payments.1.amount", "message": "Cash at most 1020.00 in all."}
    ]
    assert sales_state(world_a) == before


def test_change_up_to_the_limit_is_given(api, world_a, shelf):
    client = api(world_a.cashier)
    over = client.post(
        CHECKOUT, body(world_a, line(shelf.beans), payments=[cash("1024.01")]), format="json"
    )
    assert over.status_code == 422, over.content
    assert over.json()["error"]["details"][0]["field"] == "payments.0.amount"

    at = client.post(
        CHECKOUT, body(world_a, line(shelf.beans), payments=[cash("1024.00")]), format="json"
    )
    assert at.status_code == 201, at.content
    sale = at.json()["data"]
    assert (sale["total"], sale["paidTotal"], sale["changeDue"]) == ("24.00", "1024.00", "1000.00")


def test_ten_times_the_cash_due_when_that_is_more(api, world_a, shelf):
    """A big sale: 200 x 24.00 = 4,800.00 paid with 48,000.00 is ten times over, allowed."""
    from django_tenants.utils import tenant_context

    from apps.inventory.models import StockLevel

    with tenant_context(world_a.tenant):
        StockLevel.objects.filter(product=shelf.beans).update(quantity=D("500"))
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(world_a, line(shelf.beans, "200"), payments=[cash("52800.00")]),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["changeDue"] == "48000.00"


def test_the_ceiling_follows_the_company_currency(api, world_a, shelf):
    """In rupiah a 100,000 note for a small sale is ordinary change."""
    company(world_a, currency="IDR")
    response = api(world_a.cashier).post(
        CHECKOUT, body(world_a, line(shelf.beans), payments=[cash("100000.00")]), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["changeDue"] == "99976.00"


def test_the_rule_itself():
    assert change_limit(D("18.11")) == D("1000")
    assert change_limit(D("250.00"), "usd") == D("2500.00")
    assert change_limit(D("18.11"), "JPY") == D("100000")
    with pytest.raises(BusinessRuleViolation) as refused:
        settle(D("18.11"), [Tender("CASH", D("999999999999.99"))], rounding_step=D("0"))
    assert refused.value.code == "OVERPAYMENT"
    done = settle(D("18.11"), [Tender("CASH", D("1018.11"))], rounding_step=D("0"))
    assert done.change_due == D("1000.00")
