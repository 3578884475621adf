"""Reports cost the same number of queries however many sales, lines, returns and stores they
cover: a second, busier day adds rows, never queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reports.tests.test_reconciliation import books  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

REPORTS = [
    "/api/v1/reports/sales",
    "/api/v1/reports/profit",
    "/api/v1/reports/stock",
    "/api/v1/reports/cashier",
    "/api/v1/reports/tax",
    "/api/v1/reports/sales-summary",
    "/api/v1/reports/financial",
    "/api/v1/reports/inventory",
    "/api/v1/analytics/market-basket",
    "/api/v1/analytics/trends",
    "/api/v1/analytics/top-products",
    "/api/v1/analytics/reorder-suggestions",
]


@pytest.mark.parametrize("path", REPORTS)
def test_a_report_costs_the_same_queries_for_one_day_or_two(api, world_a, books, path):  # noqa: F811
    client = api(world_a.admin)
    counts = []
    for last_day in ("2026-11-20", "2026-11-21"):  # the 21st adds a sale and its lines
        query = {"from": "2026-11-20", "to": last_day}
        client.get(path, query)  # warm per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, query)
        assert response.status_code == 200, response.content[:300]
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
