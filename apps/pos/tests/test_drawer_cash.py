"""Every cash movement at a drawer lands in that drawer's open shift, whoever rings it (issue 25,
point 7): an admin's cash sale, refund and due payment at a store whose drawer a cashier has
open are in the cashier's X/Z report. With no drawer open, the company decides: refuse (422
SHIFT_REQUIRED, nothing written) or record the cash outside any shift, which the store's next
X/Z report shows as such."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.pos.models import CashEvent
from apps.pos.tests.conftest import SHIFTS, open_shift, x_report
from apps.sales.models import Payment, Sale
from apps.sales.tests.conftest import sales_state
from tests.factories.sales import cash, line
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal


def checkout(client, store, *items, payments, status=201):
    response = client.post(
        "/api/v1/sales/checkout",
        {"storeId": str(store.pk), "items": list(items), "payments": payments},
        format="json",
    )
    assert response.status_code == status, response.content
    return response.json()


def test_an_admin_s_cash_lands_in_the_cashier_s_open_drawer(api, world_a, shelf):
    cashier, admin = api(world_a.cashier), api(world_a.admin)
    shift = open_shift(cashier, world_a, "50.00")
    sale = checkout(admin, world_a.store, line(shelf.water, "3"), payments=[cash("5.00")])["data"]
    back = admin.post(
        f"/api/v1/sales/{sale['id']}/return",
        {"items": [{"itemId": sale["items"][0]["id"], "quantity": "1"}], "refundMethod": "CASH",
         "reason": "Dented"},
        format="json",
    )  # fmt: skip
    assert back.status_code == 201, back.content
    with tenant_context(world_a.tenant):
        assert str(Sale.objects.get(pk=sale["id"]).shift_id) == shift["id"]
        assert {str(p.shift_id) for p in Payment.objects.filter(sale_id=sale["id"])} == {
            shift["id"]
        }
        assert sorted(
            (e.type, e.amount) for e in CashEvent.objects.filter(shift_id=shift["id"])
        ) == [("REFUND", D("-0.80")), ("SALE", D("2.40"))]
    report = x_report(cashier, shift["id"])
    # 3 x 0.80 taken (5.00 tendered, 2.60 change), 0.80 refunded
    assert (report["cashSales"], report["cashRefunds"], report["expectedCash"]) == (
        "2.40", "0.80", "51.60",
    )  # fmt: skip
    assert (report["salesCount"], report["returnsCount"]) == (1, 1)
    assert report["outsideShift"] == {"count": 0, "cash": "0.00"}


def test_the_user_s_own_drawer_comes_first(api, world_a, shelf):
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    cashier_shift = open_shift(cashier, world_a, "10.00")
    manager_shift = open_shift(manager, world_a, "20.00", drawer="BACK")
    checkout(manager, world_a.store, line(shelf.water), payments=[cash("0.80")])
    assert x_report(manager, manager_shift["id"])["expectedCash"] == "20.80"
    assert x_report(manager, cashier_shift["id"])["expectedCash"] == "10.00"


def test_with_no_open_drawer_a_required_shift_refuses_and_changes_nothing(api, world_a, shelf):
    company(world_a, require_open_shift=True)
    open_shift(api(world_a.cashier), world_a)  # at S1: S2 has no drawer open
    before = sales_state(world_a)
    refused = checkout(
        api(world_a.admin), world_a.other_store, line(shelf.wrap), payments=[cash("1.00")],
        status=422,
    )  # fmt: skip
    assert refused["error"]["code"] == "SHIFT_REQUIRED"
    assert sales_state(world_a) == before


def test_cash_outside_any_shift_is_shown_on_the_store_s_next_x_and_z(api, world_a, shelf):
    admin = api(world_a.admin)
    store = world_a.other_store
    sold = checkout(admin, store, line(shelf.wrap, "3"), payments=[cash("5.00")])["data"]
    checkout(admin, store, line(shelf.wrap), payments=[{"method": "CARD", "amount": "1.00"}])
    with tenant_context(world_a.tenant):
        assert Sale.objects.get(pk=sold["id"]).shift_id is None
    opened = admin.post(SHIFTS, {"storeId": str(store.pk), "openingFloat": "30.00"}, format="json")
    assert opened.status_code == 201, opened.content
    shift = opened.json()["data"]
    report = x_report(admin, shift["id"])
    # 5.00 tendered and 2.00 change outside any drawer: 3.00 net, not in the expected cash
    assert report["outsideShift"] == {"count": 2, "cash": "3.00"}
    assert report["expectedCash"] == "30.00"
    closed = admin.post(f"{SHIFTS}/{shift['id']}/close", {"countedCash": "30.00"}, format="json")
    assert closed.status_code == 200, closed.content
    figures = closed.json()["data"]["zReport"]["figures"]
    assert figures["outsideShift"] == {"count": 2, "cash": "3.00"}
    assert figures["variance"] == "0.00"
    # the next shift of the store starts after that Z: nothing outside it any more
    again = admin.post(SHIFTS, {"storeId": str(store.pk), "openingFloat": "30.00"}, format="json")
    assert again.status_code == 201, again.content
    assert x_report(admin, again.json()["data"]["id"])["outsideShift"] == {
        "count": 0,
        "cash": "0.00",
    }
