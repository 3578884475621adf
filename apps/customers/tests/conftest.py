from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.customers.models import Customer, CustomerGroup, CustomerLedgerEntry, LoyaltyEntry

# Every customer's balance equals the sum of its ledger, and its points the sum of its
# history: the two invariants, as one query each.
BALANCE_MISMATCHES = """
SELECT c.id, c.balance, COALESCE(SUM(e.amount), 0)
FROM customers_customer c LEFT JOIN customers_customerledgerentry e ON e.customer_id = c.id
GROUP BY c.id HAVING c.balance <> COALESCE(SUM(e.amount), 0)
"""
POINTS_MISMATCHES = """
SELECT c.id, c.loyalty_points, COALESCE(SUM(e.points), 0)
FROM customers_customer c LEFT JOIN customers_loyaltyentry e ON e.customer_id = c.id
GROUP BY c.id HAVING c.loyalty_points <> COALESCE(SUM(e.points), 0)
"""


def mismatches() -> list[tuple]:
    """Customers of the current schema whose totals disagree with their ledgers."""
    with connection.cursor() as cursor:
        cursor.execute(BALANCE_MISMATCHES)
        found = cursor.fetchall()
        cursor.execute(POINTS_MISMATCHES)
        return found + cursor.fetchall()


def customers_state(world) -> dict:
    """Everything the customers module stores for `world`'s company, and its audit rows."""
    with tenant_context(world.tenant):
        state = {
            "customers": list(Customer.objects.order_by("pk").values()),
            "groups": list(CustomerGroup.objects.order_by("pk").values()),
            "ledger": list(CustomerLedgerEntry.objects.order_by("pk").values()),
            "loyalty": list(LoyaltyEntry.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    state["audit"] = AuditLog.objects.filter(tenant=world.tenant).count()
    return state


@pytest.fixture
def make_customer(world_a):
    """`make_customer(name, **fields)`: a customer of tenant A, inserted with the ORM (code
    C-9xxxxx, so the service's own numbering starts clean), in the test's transaction."""
    made = []

    def make(name: str = "Ana Silva", **fields) -> Customer:
        with tenant_context(world_a.tenant):
            customer = Customer.objects.create(code=f"C-9{len(made):05d}", name=name, **fields)
        made.append(customer)
        return customer

    return make


@pytest.fixture
def groups(world_a) -> dict[str, CustomerGroup]:
    with tenant_context(world_a.tenant):
        return {
            "vip": CustomerGroup.objects.create(name="VIP", discount_percent=Decimal("10.00")),
            "staff": CustomerGroup.objects.create(name="Staff", discount_percent=Decimal("25")),
        }
