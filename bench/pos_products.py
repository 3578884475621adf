"""Till search benchmark: `GET /api/v1/pos/products?storeId=…` on a 50,000-product catalogue
(500 of them sold as 3 variants each, stock for most items at the store), in-process through
Django's full stack as a cashier: authentication, the store check, the search, the stock at the
store, serialisation. What a till sends: a barcode scan, a name word, a SKU prefix, browsing a
category, browsing pages. Target: p95 < 30 ms.

The baseline, measured in the same run: the search statement alone (the SQL the API sends),
replayed through a bare cursor; the ratio says what the HTTP stack adds.

Creates its own company in the development database (DATABASE_URL, or the embedded PostgreSQL
under .data/) and removes it after.

    .venv/bin/python bench/pos_products.py [--products 50000] [--requests 400]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("pos")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--products", type=int, default=50_000)
parser.add_argument("--requests", type=int, default=400)
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.demo import ean13  # noqa: E402
from apps.catalog.imports import products_bulk_import  # noqa: E402
from apps.catalog.models import Category  # noqa: E402
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import company_remove, percentile  # noqa: E402

SLUG = "bench-pos"
PASSWORD = "Bench-pass-2026!"
ADJECTIVES = "fresh organic classic premium spicy sweet salted crunchy light dark".split()
NOUNS = (
    "apple bread cheese coffee tea juice water soap towel candle battery charger notebook pencil "
    "socks gloves scarf mug plate"
).split()
CATEGORIES = ["Food/Snacks", "Food/Dairy", "Drinks/Soft", "Drinks/Hot", "Home/Kitchen",
              "Home/Bath", "Office/Paper", "Apparel/Accessories"]  # fmt: skip
VARIANT_PRODUCTS = 500


def catalogue_rows(count: int, rng: random.Random) -> list[dict]:
    plain = [
        {
            "sku": f"P{seq:06d}",
            "name": f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)} {seq % 997}",
            "barcode": ean13(600_000 + seq),
            "category": rng.choice(CATEGORIES),
            "status": "ACTIVE",
            "sellPrice": f"{rng.randint(100, 9000) / 100:.2f}",
        }
        for seq in range(count - VARIANT_PRODUCTS)
    ]
    variants = [
        {
            "sku": f"T{seq:06d}", "name": f"Shirt {seq}", "category": "Apparel/Accessories",
            "status": "ACTIVE", "sellPrice": "19.90", "variantSku": f"T{seq:06d}-{size}",
            "variantBarcode": ean13(800_000 + seq * 3 + n), "variantAttributes": f"Size={size}",
        }
        for seq in range(VARIANT_PRODUCTS)
        for n, size in enumerate(("S", "M", "L"))
    ]  # fmt: skip
    return plain + variants


def seed(count: int):
    created = tenant_create(
        name="Bench till", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    rng = random.Random(7)
    with tenant_context(tenant):
        store = store_create(actor=owner, name="Store S1", code="S1", kind="RETAIL")
        cashier = staff_create(
            actor=owner, tenant=tenant, email=f"cashier@{SLUG}.bench", password=PASSWORD,
            name="Cashier", role="CASHIER", store_ids=[store.pk],
        )  # fmt: skip
        rows = catalogue_rows(count, rng)
        for start in range(0, len(rows), 5000):
            products_bulk_import(actor=owner, rows=rows[start : start + 5000], create_missing=True)
        with connection.cursor() as cursor:  # stock for 9 in 10 items at the store
            cursor.execute(
                "INSERT INTO inventory_stocklevel (id, store_id, product_id, variant_id, quantity,"
                " updated_at) SELECT gen_random_uuid(), %s, p.id, v.id, (abs(hashtext(p.sku)) %% 40),"
                " now() FROM catalog_product p LEFT JOIN catalog_productvariant v"
                " ON v.product_id = p.id WHERE abs(hashtext(p.sku)) %% 10 <> 0",
                [store.pk],
            )
            for table in ("catalog_product", "catalog_productvariant", "inventory_stocklevel"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        categories = list(Category.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass
    connection.set_schema_to_public()
    return tenant, cashier, store, categories


KINDS = ["barcode scan", "name word", "sku prefix", "category", "browse page"]


def requests(rng: random.Random, count: int, categories: list) -> list[tuple[str, dict]]:
    plain = args.products - VARIANT_PRODUCTS
    makers = {
        "barcode scan": lambda: {
            "barcode": ean13(600_000 + rng.randrange(plain))
            if rng.random() < 0.8
            else ean13(800_000 + rng.randrange(VARIANT_PRODUCTS * 3))
        },
        "name word": lambda: {"search": rng.choice(ADJECTIVES + NOUNS)},
        "sku prefix": lambda: {"search": f"P{rng.randrange(plain):06d}"[:6]},
        "category": lambda: {"categoryId": str(rng.choice(categories))},
        "browse page": lambda: {"page": rng.randint(1, 20)},
    }
    return [(kind, makers[kind]()) for kind in (KINDS[i % len(KINDS)] for i in range(count))]


def main() -> None:
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    try:
        started = time.perf_counter()
        tenant, cashier, store, categories = seed(args.products)
        seeded = time.perf_counter() - started
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=cashier).access}")
        rng = random.Random(3)
        queries = requests(rng, args.requests + 20, categories)
        samples: dict[str, list[float]] = {}
        statements = []
        for n, (kind, query) in enumerate(queries):
            begun = time.perf_counter()
            response = client.get("/api/v1/pos/products", {"storeId": str(store.pk), **query})
            elapsed = (time.perf_counter() - begun) * 1000
            if response.status_code != 200 or (kind != "category" and not response.json()["data"]):
                raise SystemExit(
                    f"{kind} {query}: HTTP {response.status_code} {response.content[:200]}"
                )
            if n >= 20:  # the first ones warm caches and connections
                samples.setdefault(kind, []).append(elapsed)
        for _kind, query in queries[20 : 20 + args.requests // 4]:
            with CaptureQueriesContext(connection) as captured:
                client.get("/api/v1/pos/products", {"storeId": str(store.pk), **query})
            statements.append(
                [q["sql"] for q in captured.captured_queries if "catalog_product p" in q["sql"]]
            )
        baseline = []
        with tenant_context(tenant), connection.cursor() as cursor:
            for sqls in statements:
                begun = time.perf_counter()
                for sql in sqls:
                    cursor.execute(sql)
                    cursor.fetchall()
                baseline.append((time.perf_counter() - begun) * 1000)
        connection.set_schema_to_public()
    finally:
        connections.close_all()
        if not args.keep:
            company_remove(SLUG)
    every = [value for values in samples.values() for value in values]
    p95 = percentile(every, 0.95)
    db = connection.settings_dict
    print("Till search benchmark")
    print(
        f"  PostgreSQL at {db['HOST'] or 'localhost'}; {args.products:,} products"
        f" ({VARIANT_PRODUCTS} with 3 variants), seeded in {seeded:.0f} s"
    )
    print(f"  GET /api/v1/pos/products as a cashier, {len(every)} requests:")
    for kind, values in samples.items():
        print(
            f"    {kind:<14} p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 0.95):6.1f} ms  max {max(values):6.1f} ms"
        )
    print(f"    all: p95 {p95:.1f} ms   target < 30 ms  {'MET' if p95 < 30 else 'MISSED'}")
    print(
        f"  the search statement alone (bare cursor, same SQL): p50"
        f" {statistics.median(baseline):.1f} ms, p95 {percentile(baseline, 0.95):.1f} ms;"
        f" API p50 x{statistics.median(every) / statistics.median(baseline):.1f} of it"
    )


if __name__ == "__main__":
    main()
