"""Voids and returns restore stock, money, the customer's account and points exactly, and
refuse what they must without changing anything."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.customers.models import Customer, CustomerLedgerEntry, LoyaltyEntry
from apps.customers.tests.conftest import mismatches
from apps.inventory.models import StockMovement
from apps.inventory.tests.conftest import ledger_mismatches
from apps.sales.models import Payment, Sale
from apps.sales.tests.conftest import sales_state
from tests.factories.sales import cash, checkout, line
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal


def level(world, product) -> Decimal:
    from apps.inventory.models import StockLevel

    with tenant_context(world.tenant):
        return StockLevel.objects.get(store=world.store, product=product, variant=None).quantity


def net_payments(world, sale_id) -> dict[str, Decimal]:
    with tenant_context(world.tenant):
        net: dict[str, Decimal] = {}
        for method, amount in Payment.objects.filter(sale_id=sale_id).values_list(
            "method", "amount"
        ):
            net[method] = net.get(method, D("0")) + amount
        return net


@pytest.fixture
def ana(world_a):
    """A customer with a credit limit, 4.00 of store credit and 300 points (ledgers agree)."""
    company(world_a, loyalty_enabled=True, loyalty_min_redeem_points=100)
    with tenant_context(world_a.tenant):
        customer = Customer.objects.create(
            code="C-1", name="Ana", credit_limit=D("100.00"), balance=D("-4.00"),
            loyalty_points=300,
        )  # fmt: skip
        CustomerLedgerEntry.objects.create(
            customer=customer, type="ADJUSTMENT", amount=D("-4.00"), balance_after=D("-4.00")
        )
        LoyaltyEntry.objects.create(customer=customer, type="ADJUST", points=300, points_after=300)
    return customer


def customer_now(world, customer) -> tuple[Decimal, int]:
    with tenant_context(world.tenant):
        customer.refresh_from_db()
        return customer.balance, customer.loyalty_points


def test_void_restores_everything(api, world_a, shelf, ana):
    sale = checkout(
        api(world_a.cashier),
        world_a,
        line(shelf.water, "5"),
        line(shelf.beans, "1"),
        customerId=str(ana.pk),
        redeemPoints=100,  # 1.00 off
        payments=[{"method": "STORE_CREDIT", "amount": "4.00"}, cash("20.00")],
    )
    # 4.00 + 24.00 - 1.00 = 27.00; paid 24.00 -> 3.00 due; earned 24 points
    assert (sale["total"], sale["dueAmount"], sale["pointsEarned"]) == ("27.00", "3.00", 24)
    assert customer_now(world_a, ana) == (D("3.00"), 224)

    response = api(world_a.manager).post(
        f"/api/v1/sales/{sale['id']}/void", {"reason": "Wrong customer"}, format="json"
    )

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["status"], data["voidReason"], data["voidedBy"]) == (
        "VOIDED", "Wrong customer", str(world_a.manager.pk),
    )  # fmt: skip
    assert (level(world_a, shelf.water), level(world_a, shelf.beans)) == (D("20"), D("5"))
    assert customer_now(world_a, ana) == (D("-4.00"), 300)
    assert net_payments(world_a, sale["id"]) == {"CASH": D("0.00"), "STORE_CREDIT": D("0.00")}
    with tenant_context(world_a.tenant):
        voids = StockMovement.objects.filter(type="VOID", reference_id=sale["id"])
        assert sorted(m.delta for m in voids) == [D("1"), D("5")]
        assert mismatches() == [] and ledger_mismatches() == []
        assert list(
            CustomerLedgerEntry.objects.filter(reference_id=sale["id"])
            .order_by("created_at")
            .values_list("type", "amount")
        ) == [
            ("STORE_CREDIT_USED", D("4.00")),
            ("CREDIT_SALE", D("3.00")),
            ("STORE_CREDIT_ISSUED", D("-4.00")),
            ("VOID", D("-3.00")),
        ]


@pytest.mark.parametrize("case", ["window passed", "already voided", "returned", "no reason"])
def test_void_refusals_change_nothing(api, world_a, shelf, case):
    client = api(world_a.manager)
    sale = checkout(client, world_a, line(shelf.water, "2"), payments=[cash("2.00")])
    url = f"/api/v1/sales/{sale['id']}"
    if case == "window passed":
        company(world_a, void_window_hours=2)
        with tenant_context(world_a.tenant):
            Sale.objects.filter(pk=sale["id"]).update(
                created_at=timezone.now() - timedelta(hours=2, minutes=1)
            )
    elif case == "already voided":
        assert client.post(f"{url}/void", {"reason": "x"}, format="json").status_code == 200
    elif case == "returned":
        body = {
            "items": [{"itemId": sale["items"][0]["id"], "quantity": "1"}],
            "refundMethod": "CASH",
            "reason": "Broken",
        }
        assert client.post(f"{url}/return", body, format="json").status_code == 201
    before = sales_state(world_a)

    response = client.post(
        f"{url}/void", {"reason": "" if case == "no reason" else "x"}, format="json"
    )

    expected = {
        "window passed": (422, "VOID_WINDOW_PASSED"),
        "already voided": (422, "INVALID_STATE"),
        "returned": (422, "INVALID_STATE"),
        "no reason": (400, "VALIDATION_ERROR"),
    }[case]
    assert (response.status_code, response.json()["error"]["code"]) == expected
    assert sales_state(world_a) == before


def test_partial_returns_refund_exactly_the_total(api, world_a, shelf):
    company(world_a, cash_rounding="0.05", tax_rate=D("23"))
    client = api(world_a.manager)
    sale = checkout(
        client,
        world_a,
        line(shelf.water, "3"),
        line(shelf.beans, "0.333"),
        discount={"type": "PERCENT", "value": "10"},
        payments=[cash("20.00")],
    )
    water, beans = sale["items"]
    url = f"/api/v1/sales/{sale['id']}/return"
    refunds = []
    for items in (
        [{"itemId": water["id"], "quantity": "1"}],
        [{"itemId": water["id"], "quantity": "1"}, {"itemId": beans["id"], "quantity": "0.111"}],
        [{"itemId": water["id"], "quantity": "1"}, {"itemId": beans["id"], "quantity": "0.222"}],
    ):
        response = client.post(
            url, {"items": items, "refundMethod": "CASH", "reason": "Changed mind"}, format="json"
        )
        assert response.status_code == 201, response.content
        refunds.append(D(response.json()["data"]["refundTotal"]))
        status = response.json()["data"]["sale"]["status"]
    assert sum(refunds) == D(sale["total"])
    assert status == "RETURNED"
    assert (level(world_a, shelf.water), level(world_a, shelf.beans)) == (D("20"), D("5.000"))
    assert net_payments(world_a, sale["id"]) == {"CASH": D("0.00")}
    detail = client.get(f"/api/v1/sales/{sale['id']}").json()["data"]
    assert [r["number"] for r in detail["returns"]] == [
        "RET-S1-000001", "RET-S1-000002", "RET-S1-000003",
    ]  # fmt: skip
    assert [i["returnedQuantity"] for i in detail["items"]] == ["3", "0.333"]
    with tenant_context(world_a.tenant):
        assert ledger_mismatches() == []


def test_returning_more_than_sold_is_422_and_changes_nothing(api, world_a, shelf):
    client = api(world_a.manager)
    sale = checkout(client, world_a, line(shelf.water, "2"), payments=[cash("2.00")])
    url = f"/api/v1/sales/{sale['id']}/return"
    item = sale["items"][0]["id"]
    first = {"items": [{"itemId": item, "quantity": "1"}], "refundMethod": "CASH", "reason": "x"}
    assert client.post(url, first, format="json").status_code == 201
    before = sales_state(world_a)

    response = client.post(
        url,
        {"items": [{"itemId": item, "quantity": "2"}], "refundMethod": "CASH", "reason": "x"},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "RETURN_EXCEEDS_SOLD"
    assert response.json()["error"]["details"] == [
        {"field": "items.0.quantity", "message": "At most 1 can be returned."}
    ]
    assert sales_state(world_a) == before


def test_half_a_whole_unit_product_cannot_be_returned(api, world_a, shelf):
    """Issue 26 point 7: the checkout's unit check applies to returns (0.5 of a piece was
    refunded and left the stock at x.500); a product sold by weight still returns in parts."""
    client = api(world_a.manager)
    sale = checkout(
        client, world_a, line(shelf.water, "2"), line(shelf.beans, "0.5"), payments=[cash("14.00")]
    )
    water, beans = sale["items"]
    url = f"/api/v1/sales/{sale['id']}/return"
    before = sales_state(world_a)

    response = client.post(
        url,
        {
            "items": [
                {"itemId": beans["id"], "quantity": "0.25"},
                {"itemId": water["id"], "quantity": "0.5"},
            ],
            "refundMethod": "CASH",
            "reason": "Half a bottle",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert response.json()["error"]["details"] == [
        {"field": "items.1.quantity", "message": "This product is sold in whole units."}
    ]
    assert sales_state(world_a) == before
    assert level(world_a, shelf.water) == D("18")

    response = client.post(
        url,
        {
            "items": [{"itemId": beans["id"], "quantity": "0.25"}],
            "refundMethod": "CASH",
            "reason": "Too much",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["refundTotal"] == "6.00"
    assert level(world_a, shelf.beans) == D("4.750")


def test_cash_refunds_never_exceed_the_cash_kept(api, world_a, shelf, ana):
    client = api(world_a.manager)
    walk_in = checkout(
        client, world_a, line(shelf.beans, "1"),
        payments=[{"method": "CARD", "amount": "20.00"}, cash("10.00")],
    )  # fmt: skip
    known = checkout(
        client, world_a, line(shelf.beans, "1"), customerId=str(ana.pk),
        payments=[{"method": "CARD", "amount": "20.00"}, cash("10.00")],
    )  # fmt: skip
    everything = {"refundMethod": "CASH", "reason": "Faulty"}
    for sale in (walk_in, known):
        everything["items"] = [{"itemId": sale["items"][0]["id"], "quantity": "1"}]
        response = client.post(f"/api/v1/sales/{sale['id']}/return", everything, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["data"]["refundTotal"] == "24.00"
    # cash 10.00 tendered, 6.00 change: 4.00 cash kept; the rest by card, or as store credit
    assert net_payments(world_a, walk_in["id"]) == {"CARD": D("0.00"), "CASH": D("0.00")}
    assert net_payments(world_a, known["id"]) == {
        "CARD": D("20.00"), "CASH": D("0.00"), "STORE_CREDIT": D("-20.00"),
    }  # fmt: skip
    balance, _points = customer_now(world_a, ana)
    assert balance == D("-24.00")  # 4.00 she had + 20.00 issued


def test_a_return_first_reduces_what_the_customer_owes(api, world_a, shelf, ana):
    client = api(world_a.manager)
    sale = checkout(
        client, world_a, line(shelf.water, "10"), customerId=str(ana.pk),
        payments=[cash("3.00")],
    )  # fmt: skip
    assert customer_now(world_a, ana) == (D("1.00"), 303)  # -4.00 + 5.00 due; 3 points

    response = client.post(
        f"/api/v1/sales/{sale['id']}/return",
        {"items": [{"itemId": sale["items"][0]["id"], "quantity": "8"}], "refundMethod": "CASH",
         "reason": "Too many"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201
    assert response.json()["data"]["refundTotal"] == "6.40"
    # 5.00 of it cancels the due, 1.40 goes back in cash; 2 of the 3 points are taken back
    assert customer_now(world_a, ana) == (D("-4.00"), 301)
    assert net_payments(world_a, sale["id"]) == {"CASH": D("1.60")}


def test_points_the_customer_spent_are_taken_from_the_refund(api, world_a, shelf, ana):
    client = api(world_a.manager)
    sale = checkout(
        client, world_a, line(shelf.beans, "1"), customerId=str(ana.pk), payments=[cash("24.00")]
    )
    with tenant_context(world_a.tenant):
        from apps.customers import services

        services.loyalty_adjust(actor=None, customer_id=ana.pk, points=-320, reason="spent")
    assert customer_now(world_a, ana) == (D("-4.00"), 4)  # of the 24 earned, 20 are gone

    response = client.post(
        f"/api/v1/sales/{sale['id']}/return",
        {"items": [{"itemId": sale["items"][0]["id"], "quantity": "1"}], "refundMethod": "CASH",
         "reason": "x"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201
    # 4 points taken back; the 20 she spent are worth 0.20, kept from the refund
    data = response.json()["data"]
    assert (data["refundTotal"], data["pointsReversed"]) == ("23.80", 4)
    assert customer_now(world_a, ana) == (D("-4.00"), 0)
    with tenant_context(world_a.tenant):
        assert mismatches() == []
