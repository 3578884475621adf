"""The hot calls never read a column the request's user statement leaves out (AUTH_DEFERRED):
such a read costs a query of its own, so a scan, a checkout or a product page that started
reading one would silently pay a round trip more on every request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories.sales import CHECKOUT, cash, line

pytestmark = pytest.mark.django_db

# the deferred loads of the user, company, settings and plan rows (DeferredLoadedTogether)
DEFERRED_TABLES = (
    '"users_user"',
    '"tenants_tenant"',
    '"tenants_tenantsettings"',
    '"tenants_package"',
)


def deferred_loads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "EXECUTE mipos_auth_user" not in q["sql"]
        and any(f'FROM {table} WHERE {table}."id" = ' in q["sql"] for table in DEFERRED_TABLES)
    ]


def test_a_scan_a_checkout_and_a_product_page_read_no_deferred_column(api, world_a, shelf):
    cashier, admin = api(world_a.cashier), api(world_a.admin)
    with CaptureQueriesContext(connection) as queries:
        scanned = cashier.get(f"/api/v1/products/lookup/barcode/{world_a.product.barcode}")
        sold = cashier.post(
            CHECKOUT,
            {
                "storeId": str(world_a.store.pk),
                "items": [line(shelf.water, "2")],
                "payments": [cash("5.00")],
            },
            format="json",
        )
        listed = admin.get("/api/v1/products?limit=20")
    assert (scanned.status_code, sold.status_code, listed.status_code) == (200, 201, 200)
    assert sold.json()["data"]["total"] == "1.60"
    assert deferred_loads(queries) == []


def test_a_deferred_read_is_seen_by_this_check(api, world_a):
    """The profile reads deferred user columns: the check above would see such a load."""
    with CaptureQueriesContext(connection) as queries:
        assert api(world_a.cashier).get("/api/auth/me").status_code == 200
    assert len(deferred_loads(queries)) == 1
