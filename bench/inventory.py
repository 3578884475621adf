"""Inventory benchmark, in one run:

1. stock adjustments per second through the API — gunicorn as production serves it
   (deploy/gunicorn.conf.py, production settings), wrk 2 threads x 8 connections, each request
   `POST /api/v1/inventory/stock/adjust` taking 1 unit of a random product (authentication,
   validation, locking, ledger row, audit row, event) — against the same conditional UPDATE +
   INSERT run by pgbench with 8 clients on the same database: the floor of any stock write
   (ratio target >= 0.3);
2. the movement list on 1,000,000 movements: latency of `GET /api/v1/inventory/movements` with a
   filter on a product or a store (pages 1-5, with and without a type filter), in-process through
   Django's full stack (p95 target < 50 ms).

Creates its own company (the demo catalogue, stock in three locations) in the development
database (DATABASE_URL, or the embedded PostgreSQL under .data/) and removes it after.

    .venv/bin/python bench/inventory.py [--duration 8] [--movements 1000000]

Needs `wrk` (apt-get install wrk) and `pgbench` (PostgreSQL's, or the embedded wheel's).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.serving_settings",
        "BENCH_BASE_SETTINGS": "production",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-inventory-secret-key-0123456789abcdef"),
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "*",
        "THROTTLE_USER": "1000000000/min",
        "THROTTLE_ANON": "1000000000/min",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",
    }
)
warnings.filterwarnings("ignore", message="No directory at")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--duration", type=int, default=8, help="seconds per wrk / pgbench run")
parser.add_argument("--movements", type=int, default=1_000_000)
parser.add_argument("--requests", type=int, default=300, help="movement-list requests")
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
parser.add_argument("--skip-throughput", action="store_true", help="only the movement list")
parser.add_argument("--skip-list", action="store_true", help="only the adjustments/s")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.demo import demo_rows  # noqa: E402
from apps.catalog.imports import products_bulk_import  # noqa: E402
from apps.catalog.models import Product  # noqa: E402
from apps.inventory.models import StockLevel  # noqa: E402
from apps.inventory.services import MAX_ITEMS, AdjustItem, stock_adjust  # noqa: E402
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import (  # noqa: E402
    company_remove,
    free_port,
    percentile,
    pgbench_run,
    start_server,
    stop_server,
    wrk_rate,
)

SLUG = "bench-inventory"
PASSWORD = "Bench-pass-2026!"
LUA = """
local ids = {}
for line in io.lines(os.getenv("WRK_PRODUCTS")) do ids[#ids + 1] = line end
local store = os.getenv("WRK_STORE")
math.randomseed(os.time())
request = function()
  local id = ids[math.random(#ids)]
  local body = '{"storeId":"' .. store .. '","reason":"DAMAGE","items":[{"productId":"' .. id
    .. '","delta":"-1"}]}'
  return wrk.format("POST", nil, nil, body)
end
"""


def cleanup() -> None:
    company_remove(SLUG)


def seed():
    """The company, three locations, the demo catalogue, plenty of stock of every plain product
    in the first store (no adjustment runs short during the benchmark)."""
    created = tenant_create(
        name="Bench inventory", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant):
        stores = [
            store_create(actor=owner, name=f"Store {code}", code=code, kind=kind)
            for code, kind in (("S1", "RETAIL"), ("S2", "RETAIL"), ("W1", "WAREHOUSE"))
        ]
        products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)
        plain = list(
            Product.objects.filter(track_stock=True, variants__isnull=True).values_list(
                "pk", flat=True
            )
        )
        for start in range(0, len(plain), MAX_ITEMS):
            stock_adjust(
                actor=owner, store_id=stores[0].pk, reason="FOUND",
                items=[AdjustItem(pk, None, Decimal(10**9)) for pk in plain[start : start + MAX_ITEMS]],
            )  # fmt: skip
    connection.set_schema_to_public()
    return tenant, owner, stores, plain


def pgbench_tps(tenant, store, seconds: int, tmp: Path) -> float:
    """The conditional UPDATE + INSERT of one decrement, 8 clients, on the same levels."""
    schema = tenant.schema_name
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_levels")
        cursor.execute(
            "CREATE TABLE bench_levels AS SELECT row_number() OVER (ORDER BY id) AS n, id"
            " FROM inventory_stocklevel WHERE store_id = %s",
            [store.pk],
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_levels (n)")
        cursor.execute("SELECT count(*) FROM bench_levels")
        levels = cursor.fetchone()[0]
    script = tmp / "decrement.sql"
    script.write_text(
        f"\\set n random(1, {levels})\n"
        "BEGIN;\n"
        f'WITH l AS (UPDATE "{schema}".inventory_stocklevel s SET quantity = s.quantity - 1,'
        f' updated_at = now() FROM "{schema}".bench_levels b'
        " WHERE b.n = :n AND s.id = b.id AND s.quantity >= 1 RETURNING s.*)\n"
        f'INSERT INTO "{schema}".inventory_stockmovement (id, store_id, product_id, variant_id,'
        " type, delta, quantity_after, reason, note, reference_type, user_id, created_at)"
        " SELECT gen_random_uuid(), store_id, product_id, variant_id, 'ADJUSTMENT', -1,"
        " quantity, 'DAMAGE', '', '', NULL, now() FROM l;\n"
        "COMMIT;\n"
    )
    return pgbench_run(script, seconds)


def api_rates(tenant, owner, store, products, barcode: str, seconds: int, tmp: Path):
    """(adjustments/s, barcode lookups/s) from one gunicorn, wrk 2 threads x 8 connections.
    The lookup is the cheapest authenticated call: the ceiling of any API write."""
    connections.close_all()
    port = free_port()
    process = start_server("gunicorn", port, tenant.schema_name, tmp / "server.log")
    try:
        (tmp / "products.txt").write_text("\n".join(str(pk) for pk in products) + "\n")
        (tmp / "adjust.lua").write_text(LUA)
        auth = ["-H", f"Authorization: Bearer {token_pair_issue(user=owner).access}"]
        base = f"http://127.0.0.1:{port}/api/v1"
        adjust = [
            "wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(tmp / "adjust.lua"), *auth,
            "-H", "Content-Type: application/json", f"{base}/inventory/stock/adjust",
        ]  # fmt: skip
        lookup = [
            "wrk",
            "-t2",
            "-c8",
            f"-d{seconds}s",
            *auth,
            f"{base}/products/lookup/barcode/{barcode}",
        ]
        env = {**os.environ, "WRK_PRODUCTS": str(tmp / "products.txt"), "WRK_STORE": str(store.pk)}
        subprocess.run([*adjust[:3], "-d2s", *adjust[4:]], env=env, capture_output=True)  # warm
        return wrk_rate(adjust, env), wrk_rate(lookup, env)
    finally:
        stop_server(process)


def fill_movements(tenant, stores, products, count: int) -> None:
    """`count` movements over 90 days, spread over the three locations and the products."""
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stockmovement (id, store_id, product_id, variant_id, type,"
            " delta, quantity_after, reason, note, reference_type, user_id, created_at)"
            " SELECT gen_random_uuid(), (%s::uuid[])[1 + i %% 3], (%s::uuid[])[1 + i %% %s],"
            " NULL, (ARRAY['SALE','SALE','SALE','ADJUSTMENT','TRANSFER_IN','PURCHASE'])[1 + i %% 6],"
            " -1, 100, '', '', '', NULL, now() - (i * interval '7.776 seconds')"
            " FROM generate_series(1, %s) AS i",
            [[s.pk for s in stores], list(products), len(products), count],
        )
        # what autovacuum does after a million inserts: statistics, and the visibility map that
        # lets the page's count read the index alone
        cursor.execute("VACUUM (ANALYZE) inventory_stockmovement")


def movement_list_latency(tenant, owner, stores, products, requests: int):
    connection.set_schema_to_public()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=owner).access}")
    rng = random.Random(7)
    samples: dict[str, list[float]] = {"product": [], "store": []}
    for n in range(requests + 20):
        kind = "product" if n % 2 else "store"
        query = (
            {"productId": str(rng.choice(products))}
            if kind == "product"
            else {"storeId": str(rng.choice(stores).pk)}
        )
        query["page"] = str(rng.randint(1, 5))
        if rng.random() < 0.3:
            query["type"] = "SALE"
        started = time.perf_counter()
        response = client.get("/api/v1/inventory/movements", query)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"movement list: HTTP {response.status_code} {response.content[:300]}")
        if n >= 20:  # the first ones warm caches and connections
            samples[kind].append(elapsed)
    return samples


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")
    call_command("migrate", verbosity=0)
    cleanup()
    tmp = Path(tempfile.mkdtemp(prefix="mipos-bench-"))
    try:
        tenant, owner, stores, products = seed()
        api_rate = base_rate = lookup_rate = None
        if not args.skip_throughput:
            with tenant_context(tenant):
                barcode = Product.objects.exclude(barcode=None).values_list("barcode", flat=True)[0]
            api_rate, lookup_rate = api_rates(
                tenant, owner, stores[0], products, barcode, args.duration, tmp
            )
            base_rate = pgbench_tps(tenant, stores[0], args.duration, tmp)
        with tenant_context(tenant):
            total = StockLevel.objects.count()
        samples = None
        if not args.skip_list:
            fill_movements(tenant, stores, products, args.movements)
            samples = movement_list_latency(tenant, owner, stores, products, args.requests)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        connections.close_all()
        if not args.keep:
            cleanup()
    db = connection.settings_dict
    print("Inventory benchmark")
    print(f"  PostgreSQL at {db['HOST'] or 'localhost'}; {len(products)} products, {total} levels")
    if api_rate is not None:
        print(
            f"  adjustments/s: API {api_rate:.0f} (gunicorn 2 sync workers, wrk 8 connections, "
            f"{args.duration} s) vs pgbench UPDATE+INSERT {base_rate:.0f} tps (8 clients): "
            f"x{api_rate / base_rate:.2f}   target >= 0.3  "
            f"{'MET' if api_rate / base_rate >= 0.3 else 'MISSED'}"
        )
        print(
            f"  ceiling, same server: barcode lookup (GET, 2 statements) {lookup_rate:.0f} req/s"
            f" = x{lookup_rate / base_rate:.2f} of pgbench; adjustments = x{api_rate / lookup_rate:.2f}"
            " of it"
        )
    if samples is None:
        return
    every = samples["product"] + samples["store"]
    p95 = percentile(every, 0.95)
    print(f"  movement list on {args.movements:,} movements, {len(every)} requests:")
    for kind, values in samples.items():
        print(
            f"    filter on {kind:<8} p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 0.95):6.1f} ms  max {max(values):6.1f} ms"
        )
    print(f"    all: p95 {p95:.1f} ms   target < 50 ms  {'MET' if p95 < 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
