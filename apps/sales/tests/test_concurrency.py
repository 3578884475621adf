"""Checkouts under real parallel connections (committed work, no test transaction): no unit sold
twice, gap-free numbers, and a till's retries of one clientSaleId make one sale."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from decimal import Decimal

from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.tests.conftest import ledger_mismatches
from apps.sales import pricing, services
from apps.sales.models import Sale
from apps.sales.tests.conftest import run_threads
from apps.tenants.models import TenantSalesDay
from apps.users.tokens import token_pair_issue
from tests.factories.sales import CHECKOUT


def one_unit(world, product, client_sale_id=None) -> services.Checkout:
    return services.Checkout(
        store_id=world.store.pk,
        items=[services.CartItem(product_id=product.pk, quantity=Decimal("1"))],
        payments=[pricing.Tender("CASH", Decimal("5.00"))],
        client_sale_id=client_sale_id,
    )


def sales_days(world) -> tuple[int, Decimal]:
    """The company's checkouts and total in the console's rollup (apps.tenants.usage)."""
    days = TenantSalesDay.objects.filter(tenant=world.tenant)
    return (
        sum(days.values_list("sales_count", flat=True)),
        sum(days.values_list("sales_total", flat=True), Decimal("0.00")),
    )


def test_200_parallel_one_unit_checkouts_against_50_in_stock(committed):
    world, product = committed
    counted_before, total_before = sales_days(world)

    outcomes = run_threads(
        world,
        200,
        lambda n: (
            services.sale_checkout(
                actor=world.cashier, checkout=one_unit(world, product)
            ).sale.sequence
        ),
    )

    kinds = Counter("sold" if isinstance(o, int) else o for o in outcomes)
    assert kinds == {"sold": 50, "INSUFFICIENT_STOCK": 150}, kinds
    assert sorted(o for o in outcomes if isinstance(o, int)) == list(range(1, 51))
    with tenant_context(world.tenant):
        assert StockLevel.objects.get(product=product, store=world.store).quantity == 0
        sales = StockMovement.objects.filter(product=product, type="SALE")
        assert sales.count() == 50
        assert sorted(sales.values_list("quantity_after", flat=True)) == list(range(50))
        assert sorted(Sale.objects.values_list("number", flat=True)) == [
            f"INV-S1-{n:06d}" for n in range(1, 51)
        ]
        assert ledger_mismatches() == []
    # the console's rollup (apps.tenants.usage): the 50 sales, none of the 150 refusals
    counted, total = sales_days(world)
    assert (counted - counted_before, total - total_before) == (50, Decimal("125.00"))


def test_ten_parallel_replays_of_one_client_sale_id_make_one_sale(committed):
    """Ten tills' retries of one sale, through the API at once: one 201, nine 200, one body."""
    world, product = committed
    body = {
        "storeId": str(world.store.pk),
        "clientSaleId": str(uuid.uuid4()),
        "items": [{"productId": str(product.pk), "quantity": "1"}],
        "payments": [{"method": "CASH", "amount": "5.00"}],
    }
    token = f"Bearer {token_pair_issue(user=world.cashier).access}"

    def post(n: int):
        connection.set_schema_to_public()  # the request routes itself by its token
        response = Client().post(
            CHECKOUT, body, content_type="application/json", HTTP_AUTHORIZATION=token
        )
        return response.status_code, response.json()["data"]

    outcomes = run_threads(world, 10, post, threads=10)

    assert sorted(status for status, _ in outcomes) == [200] * 9 + [201], outcomes
    assert len({json.dumps(data, sort_keys=True) for _, data in outcomes}) == 1
    with tenant_context(world.tenant):
        assert Sale.objects.count() == 1
        assert StockLevel.objects.get(product=product, store=world.store).quantity == 49


def test_a_checkout_request_sends_its_events_in_one_trip_after_commit(committed, trips):
    """The sale's event and its stock event, committed by one request, travel together (one
    hop into the event loop per request, not one per event)."""
    world, product = committed
    body = {
        "storeId": str(world.store.pk),
        "items": [{"productId": str(product.pk), "quantity": "2"}],
        "payments": [{"method": "CASH", "amount": "5.00"}],
    }
    token = f"Bearer {token_pair_issue(user=world.cashier).access}"

    def post(n: int):
        connection.set_schema_to_public()  # the request routes itself by its token
        return (
            Client()
            .post(CHECKOUT, body, content_type="application/json", HTTP_AUTHORIZATION=token)
            .status_code
        )

    assert run_threads(world, 1, post, threads=1) == [201]
    assert trips == [["stock.updated", "sale.completed"]]
