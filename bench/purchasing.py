"""Goods receiving benchmark: `POST /api/v1/purchases/:id/receive` of whole 200-item orders,
in-process through Django's full stack as a manager (authentication, idempotency, validation, the
order and product locks, 200 PURCHASE movements through the inventory's writer, 200 weighted-
average costs and their history, the supplier's balance, the audit row, the event). Target:
p95 < 200 ms. Also prints the time of creating those orders.

Creates its own company in the development database (DATABASE_URL, or the embedded PostgreSQL
under .data/) and removes it after.

    .venv/bin/python bench/purchasing.py [--orders 40] [--items 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("purchasing")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--orders", type=int, default=40)
parser.add_argument("--items", type=int, default=200)
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.models import Product  # noqa: E402
from apps.inventory.services import MAX_ITEMS, AdjustItem, stock_adjust  # noqa: E402
from apps.purchasing import services  # noqa: E402
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import company_remove, percentile  # noqa: E402

SLUG = "bench-purchasing"
PASSWORD = "Bench-pass-2026!"


def seed():
    """The company, a warehouse, a manager, `items` x 5 stocked products (half with stock on
    hand), a supplier, and `orders` orders of `items` random products each."""
    created = tenant_create(
        name="Bench purchasing", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    rng = random.Random(5)
    with tenant_context(tenant):
        warehouse = store_create(actor=owner, name="Warehouse", code="WH", kind="WAREHOUSE")
        manager = staff_create(
            actor=owner, tenant=tenant, email=f"manager@{SLUG}.bench", password=PASSWORD,
            name="Manager", role="MANAGER", store_ids=[warehouse.pk],
        )  # fmt: skip
        products = Product.objects.bulk_create(
            Product(
                name=f"Item {n}",
                sku=f"I{n:06d}",
                status="ACTIVE",
                cost_price=Decimal(rng.randint(50, 900)) / 100,
                sell_price=Decimal("9.99"),
            )
            for n in range(args.items * 5)
        )
        stocked = [p.pk for p in products[::2]]
        for start in range(0, len(stocked), MAX_ITEMS):
            stock_adjust(
                actor=owner, store_id=warehouse.pk, reason="FOUND",
                items=[AdjustItem(pk, None, Decimal(rng.randint(1, 50)))
                       for pk in stocked[start : start + MAX_ITEMS]],
            )  # fmt: skip
        supplier = services.supplier_create(actor=owner, name="Bench supplier")
        started = time.perf_counter()
        orders = [
            services.purchase_create(
                actor=owner,
                supplier_id=supplier.pk,
                store_id=warehouse.pk,
                items=[
                    services.OrderLine(
                        product_id=product.pk,
                        variant_id=None,
                        quantity=Decimal(rng.randint(1, 24)),
                        unit_cost=Decimal(rng.randint(5000, 99999)) / 10000,
                    )
                    for product in rng.sample(products, args.items)
                ],
            )
            for _ in range(args.orders)
        ]
        create_seconds = (time.perf_counter() - started) / len(orders)
        lines = {
            order.pk: [(str(i.pk), str(i.quantity)) for i in order.items.order_by("position")]
            for order in orders
        }
    connection.set_schema_to_public()
    return tenant, manager, orders, lines, create_seconds


def main() -> None:
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    try:
        _tenant, manager, orders, lines, create_seconds = seed()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=manager).access}")
        samples = []
        for n, order in enumerate(orders):
            body = {"items": [{"itemId": i, "quantity": q} for i, q in lines[order.pk]]}
            started = time.perf_counter()
            response = client.post(
                f"/api/v1/purchases/{order.pk}/receive", body, content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"bench-{n}",
            )  # fmt: skip
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or response.json()["data"]["status"] != "RECEIVED":
                raise SystemExit(f"receive: HTTP {response.status_code} {response.content[:300]}")
            if n >= 3:  # the first ones warm caches and connections
                samples.append(elapsed)
    finally:
        connections.close_all()
        if not args.keep:
            company_remove(SLUG)
    p95 = percentile(samples, 0.95)
    db = connection.settings_dict
    print("Goods receiving benchmark")
    print(
        f"  PostgreSQL at {db['HOST'] or 'localhost'}; {args.orders} orders of {args.items} items"
        f" ({args.items * 5} products, half with stock on hand); creating one order (service):"
        f" {create_seconds * 1000:.0f} ms"
    )
    print(
        f"  POST /purchases/:id/receive of a whole {args.items}-item order, {len(samples)} requests:"
        f" p50 {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms, max {max(samples):.1f} ms"
        f"   target p95 < 200 ms  {'MET' if p95 < 200 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
