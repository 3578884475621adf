"""Every period parameter is checked once (`core.filters.period_bounds` / `period_days`): a year
outside the supported range (2000 to 2100) or a reversed period is a 400 naming the parameter,
never an OverflowError (`from=0001-01-01` on the trends used to answer 500), and a valid period
keeps its exact figures (issue 26)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.expenses.models import Expense
from apps.reports.tests.test_reconciliation import DAY, books, report  # noqa: F401 (fixture)
from apps.sales.models import Sale

pytestmark = pytest.mark.django_db

YEARS = "Must be a date in the years 2000 to 2100."
REVERSED = "Must be after from."

OUT_OF_RANGE = [
    ({"from": "0001-01-01", "to": "2026-11-21"}, "from", YEARS),
    ({"from": "2026-11-20", "to": "9999-12-31"}, "to", YEARS),
    ({"from": "9999-12-31", "to": "9999-12-31"}, "from", YEARS),
    ({"from": "0001-01-01T00:00:00+05:00", "to": "2026-11-21"}, "from", YEARS),
    ({"from": "2026-11-20", "to": "9999-12-31T23:59:59-12:00"}, "to", YEARS),
    ({"from": "1999-12-31", "to": "2026-11-21"}, "from", YEARS),
    ({"from": "2026-11-20", "to": "2101-01-01"}, "to", YEARS),
    # reversed: to before from (a date's `to` includes the day, so the day before is reversed)
    ({"from": "2026-11-21", "to": "2026-11-20"}, "to", REVERSED),
    ({"from": "2026-11-21T10:00:00Z", "to": "2026-11-21T09:59:59Z"}, "to", REVERSED),
    ({"from": "2026-11-21T10:00:00Z", "to": "2026-11-21T10:00:00Z"}, "to", REVERSED),
]

ENDPOINTS = [
    "/api/v1/analytics/trends",
    "/api/v1/reports/sales",
    "/api/v1/reports/inventory",
    "/api/v1/sales",
    "/api/v1/payments",
    "/api/v1/audit",
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("query, field, message", OUT_OF_RANGE)
def test_period_out_of_range_or_reversed_is_400_naming_the_parameter(
    api,
    world_a,
    path,
    query,
    field,
    message,
):
    with tenant_context(world_a.tenant):
        before = (Sale.objects.count(), AuditLog.objects.count())
    response = api(world_a.admin).get(path, query)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"field": field, "message": message}]
    with tenant_context(world_a.tenant):
        assert (Sale.objects.count(), AuditLog.objects.count()) == before


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"from": "0001-01-01"}, "from", YEARS),
        ({"to": "9999-12-31"}, "to", YEARS),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "to", "Must not be before from."),
    ],
)
def test_expense_days_are_checked_alike(api, world_a, books, query, field, message):  # noqa: F811
    response = api(world_a.admin).get("/api/v1/expenses", query)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": field, "message": message}]


def test_expenses_of_one_day_still_listed(api, world_a, books):  # noqa: F811
    response = api(world_a.admin).get("/api/v1/expenses", DAY)
    assert response.status_code == 200
    assert sorted(row["amount"] for row in response.json()["data"]) == ["10.00", "50.00"]
    with tenant_context(world_a.tenant):
        assert Expense.objects.count() == 3


@pytest.mark.parametrize(
    "as_of", ["0001-01-01", "9999-12-31", "9999-12-31T23:00:00-12:00", "2101-01-01"]
)
def test_stock_as_of_out_of_range_is_400_naming_as_of(api, world_a, as_of):
    response = api(world_a.admin).get("/api/v1/reports/stock", {"asOf": as_of})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "asOf", "message": YEARS}]


def test_trends_over_the_widest_period_keep_their_exact_figures(api, world_a, books):  # noqa: F811
    client = api(world_a.admin)
    widest = {"from": "2000-01-01", "to": "2100-12-31"}
    response = client.get("/api/v1/analytics/trends", widest)
    assert response.status_code == 200, response.content[:300]
    data = response.json()["data"]
    totals = report(client, "sales", **widest)["totals"]
    assert {k: data["current"][k] for k in totals} == totals
    assert data["current"]["count"] == 3  # the 20th's two kept sales and the 21st's
    # New York midnight is 05:00 UTC; the previous period is as long, just before
    start, end = datetime(2000, 1, 1, 5, tzinfo=UTC), datetime(2101, 1, 1, 5, tzinfo=UTC)
    previous = (start - (end - start)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (data["current"]["from"], data["current"]["to"]) == (
        "2000-01-01T05:00:00Z",
        "2101-01-01T05:00:00Z",
    )
    assert (data["previous"]["from"], data["previous"]["to"]) == (previous, "2000-01-01T05:00:00Z")
    assert data["previous"]["count"] == 0
    assert data["changePercent"]["count"] is None  # nothing before: no percentage


def test_a_period_of_one_day_is_not_reversed(api, world_a, books):  # noqa: F811
    response = api(world_a.admin).get("/api/v1/analytics/trends", DAY)
    assert response.status_code == 200
    assert (
        response.json()["data"]["current"]["count"],
        response.json()["data"]["previous"]["count"],
    ) == (2, 0)
