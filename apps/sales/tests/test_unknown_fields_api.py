"""Issue 26, point 11: on every money write an unknown key — `currency` on a payment, `foo` on a
line, anything at the top — is 400 VALIDATION_ERROR naming each with its camelCase path, and
nothing is written (it used to be silently ignored)."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.customers.models import Customer
from apps.expenses.models import Expense
from apps.pos.models import CashEvent, Shift
from apps.purchasing.models import PurchaseOrder
from apps.sales.tests.conftest import sales_state
from apps.sales.tests.test_checkout import body
from tests.factories.sales import CHECKOUT, cash, line

QUOTE = "/api/v1/sales/quote"
UNKNOWN = "Unknown field."


@pytest.mark.parametrize("url", [CHECKOUT, QUOTE])
def test_unknown_fields_of_a_checkout_are_refused_by_path(api, world_a, shelf, url):
    before = sales_state(world_a)
    request = body(
        world_a,
        line(shelf.water, "2", foo="bar"),
        payments=[{**cash("5.00"), "currency": "EUR"}],
        cashierNote="x",
    )
    request["items"][0]["discount"] = {"type": "PERCENT", "value": "5", "maxValue": "1"}

    response = api(world_a.cashier).post(url, request, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert sorted(error["details"], key=lambda d: d["field"]) == [
        {"field": "cashierNote", "message": UNKNOWN},
        {"field": "items.0.discount.maxValue", "message": UNKNOWN},
        {"field": "items.0.foo", "message": UNKNOWN},
        {"field": "payments.0.currency", "message": UNKNOWN},
    ]
    assert sales_state(world_a) == before


def test_the_declared_fields_still_check_out(api, world_a, shelf):
    """clientSaleId, approval, discount, note, redeemPoints are declared: still taken."""
    request = body(
        world_a,
        line(shelf.water, "1", discount={"type": "AMOUNT", "value": "0.05"}),
        payments=[cash("1.00")],
        clientSaleId="5b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        note="n",
        redeemPoints=0,
        approval=None,
    )
    response = api(world_a.cashier).post(CHECKOUT, request, format="json")
    assert response.status_code == 201, response.content


def test_void_return_and_dues_refuse_unknown_fields(api, world_a, shelf):
    client = api(world_a.manager)
    sale = client.post(
        CHECKOUT, body(world_a, line(shelf.water, "2"), payments=[cash("2.00")]), format="json"
    ).json()["data"]
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(code="C-9", name="Ana")
    connection.set_schema_to_public()
    before = sales_state(world_a)

    void = client.post(
        f"/api/v1/sales/{sale['id']}/void", {"reason": "twice", "refund": "2.00"}, format="json"
    )
    returned = client.post(
        f"/api/v1/sales/{sale['id']}/return",
        {
            "items": [{"itemId": sale["items"][0]["id"], "quantity": "1", "amount": "0.80"}],
            "refundMethod": "CASH",
            "reason": "faulty",
        },
        format="json",
    )
    dues = client.post(
        "/api/v1/payments/collect-due",
        {"customerId": str(ana.pk), "amount": "1.00", "method": "CASH", "currency": "EUR"},
        format="json",
    )

    assert [(r.status_code, r.json()["error"]["details"]) for r in (void, returned, dues)] == [
        (400, [{"field": "refund", "message": UNKNOWN}]),
        (400, [{"field": "items.0.amount", "message": UNKNOWN}]),
        (400, [{"field": "currency", "message": UNKNOWN}]),
    ]
    assert sales_state(world_a) == before


def count_of(world, model) -> int:
    with tenant_context(world.tenant):
        count = model.objects.count()
    connection.set_schema_to_public()
    return count


def test_purchases_expenses_shifts_and_adjustments_refuse_unknown_fields(api, world_a, shelf):
    client = api(world_a.admin)
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(code="C-8", name="Ana")
    connection.set_schema_to_public()
    store, product = str(world_a.store.pk), str(shelf.water.pk)
    writes = [
        (
            "/api/v1/purchases",
            {
                "supplierId": store,  # never looked at: the unknown key is refused first
                "storeId": store,
                "items": [{"productId": product, "quantity": "1", "unitCost": "1", "tax": "1"}],
            },
            "items.0.tax",
            PurchaseOrder,
        ),
        (
            "/api/v1/expenses",
            {"categoryId": store, "amount": "10.00", "date": "2026-12-01", "currency": "EUR"},
            "currency",
            Expense,
        ),
        (
            "/api/v1/pos/shifts",
            {"storeId": store, "openingFloat": "100.00", "closingFloat": "0"},
            "closingFloat",
            Shift,
        ),
        (
            f"/api/v1/customers/{ana.pk}/balance/adjust",
            {"amount": "25.00", "reason": "Opening", "currency": "EUR"},
            "currency",
            Customer,
        ),
    ]
    for url, request, field, model in writes:
        before = count_of(world_a, model)
        response = client.post(url, request, format="json")
        assert response.status_code == 400, (url, response.content)
        error = response.json()["error"]
        assert (error["code"], error["details"]) == (
            "VALIDATION_ERROR",
            [{"field": field, "message": UNKNOWN}],
        ), url
        assert count_of(world_a, model) == before
    with tenant_context(world_a.tenant):
        ana.refresh_from_db()
        assert ana.balance == 0
        assert CashEvent.objects.count() == 0
