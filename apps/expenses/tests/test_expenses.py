"""Expenses and their categories through the API: validation that changes nothing, filters,
soft delete, categories in use, and a summary that always equals the list it summarises."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.expenses.models import Expense, ExpenseCategory
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
EXPENSES, CATEGORIES = "/api/v1/expenses", "/api/v1/expenses/categories"


def state(world) -> dict:
    with tenant_context(world.tenant):
        found = {
            "categories": list(ExpenseCategory.objects.order_by("pk").values()),
            "expenses": list(Expense.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    found["audit"] = AuditLog.objects.filter(tenant=world.tenant).count()
    return found


def create(client, **body) -> dict:
    response = client.post(EXPENSES, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


@pytest.fixture
def books(api, world_a):
    """Rent and Utilities; expenses on both sides of a month end, in two stores and none."""
    manager = api(world_a.manager)
    rent = manager.post(CATEGORIES, {"name": "Rent"}, format="json").json()["data"]
    power = manager.post(CATEGORIES, {"name": "Utilities"}, format="json").json()["data"]
    rows = [
        (rent, world_a.store, "800.00", "2026-10-31", "October rent"),
        (power, world_a.store, "120.35", "2026-10-31", "Power, store"),
        (power, world_a.other_store, "99.99", "2026-11-01", "Power, other"),
        (rent, None, "1500.00", "2026-11-01", "Office rent"),
        (power, world_a.store, "0.01", "2026-11-30", "Rounding"),
        (rent, world_a.store, "800.00", "2026-12-01", "December rent"),
    ]
    made = [
        create(
            manager,
            categoryId=category["id"],
            storeId=str(store.pk) if store else None,
            amount=amount,
            date=day,
            description=text,
            paymentMethod="BANK_TRANSFER",
        )
        for category, store, amount, day, text in rows
    ]
    return manager, rent, power, made


def test_create_answers_the_expense_and_refusals_change_nothing(api, world_a, books):
    manager, rent, _, made = books
    first = made[0]
    assert (first["amount"], first["date"], first["category"]["name"], first["store"]["name"]) == (
        "800.00", "2026-10-31", "Rent", world_a.store.name,
    )  # fmt: skip
    assert first["currency"] == "USD"  # the company's when recorded, kept by the expense
    before = state(world_a)
    for body, field in (
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"categoryId": "00000000-0000-0000-0000-000000000000"}, "categoryId"),
        ({"storeId": "00000000-0000-0000-0000-000000000000"}, "storeId"),
        ({"date": "2026-11-31"}, "date"),
        ({"paymentMethod": "CHEQUE"}, "paymentMethod"),
    ):
        payload = {"categoryId": rent["id"], "amount": "10.00", "date": "2026-11-02", **body}
        response = manager.post(EXPENSES, payload, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["error"]["details"][0]["field"] == field
    assert api(world_a.cashier).post(EXPENSES, {}, format="json").status_code == 403
    assert state(world_a) == before


def test_list_filters_update_and_soft_delete(api, world_a, books):
    manager, rent, _, made = books

    def descriptions(**query) -> list[str]:
        response = manager.get(EXPENSES, query)
        assert response.status_code == 200, response.content
        return [row["description"] for row in response.json()["data"]]

    # newest day first; the same day: the latest entered first
    assert descriptions(**{"from": "2026-11-01", "to": "2026-11-30"}) == [
        "Rounding", "Office rent", "Power, other",
    ]  # fmt: skip
    assert descriptions(categoryId=rent["id"], storeId=str(world_a.store.pk)) == [
        "December rent", "October rent",
    ]  # fmt: skip
    assert descriptions(search="power") == ["Power, other", "Power, store"]
    assert descriptions(minAmount="100", maxAmount="1000") == [
        "December rent", "Power, store", "October rent",
    ]  # fmt: skip
    bad = manager.get(EXPENSES, {"from": "2026-11-01T00:00:00Z"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [
        {"field": "from", "message": "Must be a date (YYYY-MM-DD)."}
    ]

    target = made[4]
    changed = manager.patch(
        f"{EXPENSES}/{target['id']}", {"amount": "0.02", "categoryId": rent["id"]}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["data"]["amount"], changed.json()["data"]["category"]["name"]) == (
        "0.02", "Rent",
    )  # fmt: skip
    before = state(world_a)
    refused = manager.patch(f"{EXPENSES}/{target['id']}", {"amount": "0"}, format="json")
    assert refused.status_code == 400 and state(world_a) == before
    deleted = manager.delete(f"{EXPENSES}/{target['id']}")
    assert deleted.status_code == 200
    assert manager.get(f"{EXPENSES}/{target['id']}").status_code == 404
    assert "Rounding" not in descriptions()


def test_categories_are_unique_and_not_deleted_while_used(api, world_a, books):
    manager, rent, _, _ = books
    before = state(world_a)
    again = manager.post(CATEGORIES, {"name": "  rent "}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["details"] == [{"field": "name", "message": "Already in use."}]
    used = manager.delete(f"{CATEGORIES}/{rent['id']}")
    assert used.status_code == 422 and used.json()["error"]["code"] == "IN_USE"
    assert state(world_a) == before
    spare = manager.post(CATEGORIES, {"name": "Spare"}, format="json").json()["data"]
    assert manager.delete(f"{CATEGORIES}/{spare['id']}").status_code == 200
    names = [c["name"] for c in manager.get(CATEGORIES).json()["data"]]
    assert names == ["Rent", "Utilities"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-11-01", "to": "2026-11-30"},
        {"from": "2026-10-31", "to": "2026-11-01"},  # across the month end
        {"to": "2026-10-31"},
        {"storeId": "store"},
        {"categoryId": "power", "from": "2026-11-01"},
        {"search": "rent", "minAmount": "900"},
    ],
)
def test_the_summary_equals_the_list_for_the_same_filters(api, world_a, books, query):
    company(world_a, timezone="Pacific/Kiritimati")  # UTC+14: its days are not UTC's
    manager, _, power, _ = books
    query = {
        key: {"store": str(world_a.store.pk), "power": power["id"]}.get(value, value)
        for key, value in query.items()
    }
    listed = manager.get(EXPENSES, {**query, "limit": 100}).json()["data"]
    summary = manager.get(f"{EXPENSES}/summary", query)
    assert summary.status_code == 200, summary.content
    data = summary.json()["data"]
    total = sum((D(row["amount"]) for row in listed), D("0.00"))
    assert (D(data["total"]), data["count"]) == (total, len(listed))
    by_month: dict[str, D] = {}
    for row in listed:
        by_month[row["date"][:7]] = by_month.get(row["date"][:7], D("0.00")) + D(row["amount"])
    assert {m["month"]: D(m["total"]) for m in data["byMonth"]} == by_month
    by_category: dict[str, D] = {}
    for row in listed:
        by_category[row["categoryId"]] = by_category.get(row["categoryId"], D("0")) + D(
            row["amount"]
        )
    assert {c["categoryId"]: D(c["total"]) for c in data["byCategory"]} == by_category
    assert sum(s["count"] for s in data["byStore"]) == len(listed)
