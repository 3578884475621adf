"""Sales and payments lists (filters, who sees what) and collecting dues."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.customers.models import Customer
from apps.customers.tests.conftest import customers_state, mismatches
from apps.sales.models import Payment, Sale
from apps.sales.tests.conftest import sales_state
from tests.factories.sales import CHECKOUT, cash, line

pytestmark = pytest.mark.django_db

D = Decimal


def checkout(client, world, store, *items, payments, **extra) -> dict:
    response = client.post(
        CHECKOUT,
        {"storeId": str(store.pk), "items": list(items), "payments": payments, **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


@pytest.fixture
def bea(world_a):
    with tenant_context(world_a.tenant):
        return Customer.objects.create(code="C-2", name="Bea", credit_limit=D("100.00"))


def test_sales_list_filters_and_a_cashier_sees_her_stores_only(api, world_a, shelf, bea):
    manager = api(world_a.manager)
    first = checkout(manager, world_a, world_a.store, line(shelf.wrap), payments=[cash("1.00")])
    card = checkout(
        manager, world_a, world_a.store, line(shelf.wrap, "3"),
        payments=[{"method": "CARD", "amount": "3.00"}], customerId=str(bea.pk),
    )  # fmt: skip
    elsewhere = checkout(
        manager, world_a, world_a.other_store, line(shelf.wrap), payments=[cash("1.00")]
    )

    def numbers(client, **query) -> list[str]:
        response = client.get("/api/v1/sales", query)
        assert response.status_code == 200, response.content
        return [sale["number"] for sale in response.json()["data"]]

    assert numbers(manager) == [elsewhere["number"], card["number"], first["number"]]
    assert numbers(manager, storeId=str(world_a.store.pk)) == [card["number"], first["number"]]
    assert numbers(manager, paymentMethod="CARD") == [card["number"]]
    assert numbers(manager, customerId=str(bea.pk)) == [card["number"]]
    assert numbers(manager, minTotal="2.00") == [card["number"]]
    assert numbers(manager, number="inv-s1-000001") == [first["number"]]
    assert numbers(manager, status="VOIDED") == []
    cashier = api(world_a.cashier)
    assert numbers(cashier) == [card["number"], first["number"]]
    assert cashier.get(f"/api/v1/sales/{elsewhere['id']}").status_code == 404
    assert manager.get("/api/v1/sales", {"status": "LOST"}).status_code == 400


def test_collect_due_settles_the_oldest_sales_first(api, world_a, shelf, bea):
    manager = api(world_a.manager)
    older = checkout(
        manager, world_a, world_a.store, line(shelf.wrap, "6"), customerId=str(bea.pk),
        payments=[cash("1.00")],
    )  # fmt: skip
    newer = checkout(
        manager, world_a, world_a.store, line(shelf.wrap, "4"), customerId=str(bea.pk),
        payments=[],
    )  # fmt: skip
    # Bea owes 5.00 + 4.00

    response = api(world_a.cashier).post(
        "/api/v1/payments/collect-due",
        {"customerId": str(bea.pk), "amount": "7.00", "method": "CARD", "reference": "T-1"},
        format="json",
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["payment"]["kind"], data["payment"]["amount"], data["balance"]) == (
        "DUE", "7.00", "2.00",
    )  # fmt: skip
    assert data["payment"]["storeId"] == str(world_a.store.pk)  # the oldest sale's store
    assert [(s["number"], s["dueAmount"], s["paid"], s["remaining"]) for s in data["sales"]] == [
        (older["number"], "5.00", "5.00", "0.00"),
        (newer["number"], "4.00", "2.00", "2.00"),
    ]
    detail = api(world_a.manager).get(f"/api/v1/payments/{data['payment']['id']}").json()["data"]
    assert [(a["saleNumber"], a["amount"]) for a in detail["allocations"]] == [
        (older["number"], "5.00"),
        (newer["number"], "2.00"),
    ]
    history = api(world_a.cashier).get(f"/api/v1/payments/customer/{bea.pk}").json()["data"]
    assert [(p["kind"], p["method"], p["amount"]) for p in history] == [
        ("DUE", "CARD", "7.00"),
        ("SALE", "CASH", "1.00"),
    ]
    with tenant_context(world_a.tenant):
        assert Sale.objects.get(pk=newer["id"]).due_paid == D("2.00")
        assert mismatches() == []


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("more than owed", 422, "AMOUNT_EXCEEDS_DUE"),
        ("store credit", 400, "VALIDATION_ERROR"),
        ("not her store", 403, "FORBIDDEN"),
        ("nothing due, no store", 400, "VALIDATION_ERROR"),
    ],
)
def test_collect_due_refusals_change_nothing(api, world_a, shelf, bea, case, status, code):
    if case == "nothing due, no store":  # an opening balance, no due sale to name a store
        from apps.customers.services import customer_balance_adjust

        with tenant_context(world_a.tenant):
            customer_balance_adjust(
                actor=None, customer_id=bea.pk, amount=D("10.00"), reason="Opening"
            )
    else:
        checkout(
            api(world_a.manager), world_a, world_a.store, line(shelf.wrap, "5"),
            customerId=str(bea.pk), payments=[],
        )  # fmt: skip
    body = {"customerId": str(bea.pk), "amount": "5.00", "method": "CASH"}
    if case == "more than owed":
        body["amount"] = "5.01"
    elif case == "store credit":
        body["method"] = "STORE_CREDIT"
    elif case == "not her store":
        body["storeId"] = str(world_a.other_store.pk)
    before = (sales_state(world_a), customers_state(world_a))

    response = api(world_a.cashier).post("/api/v1/payments/collect-due", body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert (sales_state(world_a), customers_state(world_a)) == before


def test_store_stats_and_the_dashboard_count_sales_net_of_refunds(api, world_a, shelf, bea):
    manager = api(world_a.manager)
    kept = checkout(manager, world_a, world_a.store, line(shelf.wrap, "4"), payments=[cash("4")])
    checkout(
        manager, world_a, world_a.store, line(shelf.wrap, "2"), customerId=str(bea.pk),
        payments=[],
    )  # fmt: skip
    voided = checkout(manager, world_a, world_a.store, line(shelf.wrap), payments=[cash("1")])
    elsewhere = checkout(
        manager, world_a, world_a.other_store, line(shelf.wrap, "3"), payments=[cash("3")]
    )
    assert (
        manager.post(
            f"/api/v1/sales/{voided['id']}/void", {"reason": "x"}, format="json"
        ).status_code
        == 200
    )
    returned = manager.post(
        f"/api/v1/sales/{kept['id']}/return",
        {"items": [{"itemId": kept["items"][0]["id"], "quantity": "1"}], "refundMethod": "CASH",
         "reason": "x"},
        format="json",
    )  # fmt: skip
    assert returned.status_code == 201

    store = manager.get(f"/api/v1/stores/{world_a.store.pk}/stats").json()["data"]
    dashboard = api(world_a.admin).get("/api/v1/tenants/me/dashboard").json()["data"]

    # S1: 4.00 + 2.00 (the void excluded) - 1.00 refunded; the company adds S2's 3.00
    assert store["today"] == {"salesCount": 2, "salesTotal": "5.00"}
    assert store["month"] == store["today"]
    assert dashboard["today"] == {"salesCount": 3, "salesTotal": "8.00", "averageSale": "2.67"}
    assert (dashboard["customers"], dashboard["customerDues"]) == (1, "2.00")
    assert elsewhere["number"] == "INV-S2-000001"


def test_from_and_to_are_days_and_times_in_the_company_s_time_zone(api, world_a, shelf):
    """Auckland is UTC+13 in November: its 22nd runs from 21 Nov 11:00 UTC to 22 Nov 11:00 UTC."""
    from datetime import datetime

    from tests.factories.tenants import company

    company(world_a, timezone="Pacific/Auckland")
    manager = api(world_a.manager)
    made = {}
    for name, utc in (
        ("before", "2026-11-21T10:59:59"),  # the 21st, 23:59:59 in Auckland
        ("first", "2026-11-21T11:00:00"),  # the 22nd, 00:00 in Auckland
        ("last", "2026-11-22T10:59:59"),  # the 22nd, 23:59:59
        ("after", "2026-11-22T11:00:00"),  # the 23rd
    ):
        sale = checkout(manager, world_a, world_a.store, line(shelf.wrap), payments=[cash("1.00")])
        with tenant_context(world_a.tenant):
            at = datetime.fromisoformat(utc + "+00:00")
            Sale.objects.filter(pk=sale["id"]).update(created_at=at)
            Payment.objects.filter(sale_id=sale["id"]).update(created_at=at)
        made[sale["number"]] = name

    def names(path="/api/v1/sales", **query) -> list[str]:
        response = manager.get(path, query)
        assert response.status_code == 200, response.content
        key = "number" if path == "/api/v1/sales" else "saleNumber"
        return [made[row[key]] for row in response.json()["data"]]

    assert names(**{"from": "2026-11-22", "to": "2026-11-22"}) == ["last", "first"]
    assert names(**{"from": "2026-11-22"}) == ["after", "last", "first"]
    assert names(**{"to": "2026-11-21"}) == ["before"]
    # a date-time without an offset is the company's local time; with one, exactly that instant
    assert names(**{"from": "2026-11-23T00:00:00"}) == ["after"]
    assert names(**{"to": "2026-11-22T00:00:00"}) == ["before"]
    assert names(**{"from": "2026-11-21T11:00:00Z", "to": "2026-11-22T10:59:59Z"}) == ["first"]
    assert names(**{"from": "2026-11-22T23:59:59+13:00"}) == ["after", "last"]
    payments = {"from": "2026-11-22", "to": "2026-11-22", "kind": "SALE"}
    assert names("/api/v1/payments", **payments) == ["last", "first"]

    for bad in ("yesterday", "2026-13-01", "2026-11-31", "22/11/2026"):
        response = manager.get("/api/v1/sales", {"from": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"] == [
            {"field": "from", "message": "Must be a date (YYYY-MM-DD) or an ISO 8601 date-time."}
        ]
