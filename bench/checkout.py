"""Checkout benchmark, in one run:

1. checkouts per second through the API — gunicorn as production serves it
   (deploy/gunicorn.conf.py, production settings), wrk 2 threads x 8 connections (8 cashiers'
   tills), each request `POST /api/v1/sales/checkout` of a 3-item cart of random products paid
   in cash (authentication, validation, prices and taxes, stock locks and SALE movements, the
   number, sale, lines and payment rows, the audit row, the event) — against the equivalent SQL
   transaction run by pgbench with 8 clients on the same database (read the 3 products, take
   the number, insert the sale, its lines and payment, lock and decrement the 3 levels and
   write their movements): ratio target >= 0.3;
2. the same with every till selling the same 3 products (the rows every checkout locks),
   against pgbench on the same 3 levels: ratio target >= 0.3;
3. the checkout's p95 latency (target < 50 ms): its own, with 2 connections for the 2 workers
   (one request at a time each), and under the 8-connection load (where 8 requests share 2
   workers, so most of it is waiting in line).

Creates its own company (the demo catalogue, plenty of stock in one store) in the development
database (DATABASE_URL, or the embedded PostgreSQL under .data/) and removes it after.

    .venv/bin/python bench/checkout.py [--duration 8]

Needs `wrk` (apt-get install wrk) and `pgbench` (PostgreSQL's, or the embedded wheel's).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("checkout", GUNICORN_ACCESS_LOG="")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--duration", type=int, default=8, help="seconds per wrk / pgbench run")
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.demo import demo_rows  # noqa: E402
from apps.catalog.imports import products_bulk_import  # noqa: E402
from apps.catalog.models import Product  # noqa: E402
from apps.inventory.services import MAX_ITEMS, AdjustItem, stock_adjust  # noqa: E402
from apps.sales.models import Sale  # noqa: E402
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import (  # noqa: E402
    company_remove,
    free_port,
    pgbench_run,
    start_server,
    stop_server,
)

SLUG = "bench-checkout"
PASSWORD = "Bench-pass-2026!"
LUA = """
local ids = {}
for line in io.lines(os.getenv("WRK_PRODUCTS")) do ids[#ids + 1] = line end
local store = os.getenv("WRK_STORE")
local hot = os.getenv("WRK_HOT") == "1"
math.randomseed(os.time())
request = function()
  local a, b, c
  if hot then a, b, c = 1, 2, 3 else
    a = math.random(#ids); b = math.random(#ids); c = math.random(#ids)
    while b == a do b = math.random(#ids) end
    while c == a or c == b do c = math.random(#ids) end
  end
  local body = '{"storeId":"' .. store .. '","items":['
    .. '{"productId":"' .. ids[a] .. '","quantity":"1"},'
    .. '{"productId":"' .. ids[b] .. '","quantity":"2"},'
    .. '{"productId":"' .. ids[c] .. '","quantity":"1"}],'
    .. '"payments":[{"method":"CASH","amount":"1000.00"}]}'
  return wrk.format("POST", nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("p95_us=%d\\n", latency:percentile(95)))
  io.write(string.format("p50_us=%d\\n", latency:percentile(50)))
end
"""


def seed():
    """The company, a store with its cashier, the demo catalogue, plenty of stock of every
    plain active product (no checkout runs short during the benchmark)."""
    created = tenant_create(
        name="Bench checkout", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant):
        store = store_create(actor=owner, name="Store S1", code="S1", kind="RETAIL")
        cashier = staff_create(
            actor=owner, tenant=tenant, email=f"cashier@{SLUG}.bench", password=PASSWORD,
            name="Cashier", role="CASHIER", store_ids=[store.pk],
        )  # fmt: skip
        products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)
        plain = list(
            Product.objects.filter(
                track_stock=True, variants__isnull=True, status="ACTIVE", deleted_at__isnull=True
            ).values_list("pk", flat=True)
        )
        for start in range(0, len(plain), MAX_ITEMS):
            stock_adjust(
                actor=owner, store_id=store.pk, reason="FOUND",
                items=[AdjustItem(pk, None, Decimal(10**9)) for pk in plain[start : start + MAX_ITEMS]],
            )  # fmt: skip
    connection.set_schema_to_public()
    return tenant, cashier, store, plain


def pgbench_tps(tenant, store, products: list, seconds: int, tmp: Path, hot: bool) -> float:
    """What a checkout must do, as SQL, 8 clients: read 3 products, take the store's next
    number, insert the sale, its 3 lines (one statement) and its payment, lock and decrement
    the 3 levels in one order and write their movements (one statement each), commit."""
    schema = tenant.schema_name
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_items")
        cursor.execute(
            "CREATE TABLE bench_items AS SELECT row_number() OVER (ORDER BY p.id) AS n,"
            " p.id AS product_id, l.id AS level_id FROM catalog_product p"
            " JOIN inventory_stocklevel l ON l.product_id = p.id AND l.store_id = %s"
            " WHERE p.id = ANY(%s::uuid[])",
            [store.pk, products],
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_items (n)")
        count = len(products)
    q = f'"{schema}".'
    pick = "\\set a 1\n\\set b 2\n\\set c 3\n" if hot else (
        f"\\set a random(1, {count})\n\\set b random(1, {count})\n\\set c random(1, {count})\n"
    )  # fmt: skip
    script = tmp / ("checkout-hot.sql" if hot else "checkout.sql")
    script.write_text(
        pick + "BEGIN;\n"
        f"SELECT p.id, p.sell_price, p.cost_price, p.tax_rate, p.status FROM {q}catalog_product p"
        f" JOIN {q}bench_items b ON b.product_id = p.id WHERE b.n IN (:a, :b, :c);\n"
        f"INSERT INTO {q}core_documentcounter AS c (series, last_value)"
        f" VALUES ('sale:{store.pk}', 1) ON CONFLICT (series)"
        " DO UPDATE SET last_value = c.last_value + 1 RETURNING last_value \\gset\n"
        f"INSERT INTO {q}sales_sale (id, created_at, updated_at, number, sequence, store_id,"
        " cashier_id, request_hash, status, subtotal, discount_total, tax_total,"
        " rounding_adjustment, total, paid_total, change_due, due_amount, due_paid,"
        " due_returned, points_earned, points_redeemed, points_value, group_discount_percent,"
        " prices_include_tax, currency, note, void_reason, product_ids)"
        " VALUES (md5(random()::text || clock_timestamp()::text)::uuid, now(), now(),"
        f" 'B-' || :last_value, :last_value, '{store.pk}', gen_random_uuid(), '', 'COMPLETED',"
        " 10, 0, 0, 0, 10, 5000, 4990, 0, 0, 0, 0, 0, 0, 0, false, 'USD', '', '',"
        f" ARRAY(SELECT DISTINCT product_id FROM {q}bench_items WHERE n IN (:a, :b, :c)"
        " ORDER BY product_id))"
        " RETURNING id AS sale_id \\gset\n"
        f"INSERT INTO {q}sales_saleitem (id, sale_id, sold_at, store_id, position, product_id,"
        " name, sku, quantity, unit_price, price_overridden, line_discount, group_discount,"
        " cart_discount, points_discount, discount_amount, tax_rate, tax_amount, line_total,"
        " unit_cost, track_stock, returned_quantity)"
        f" SELECT gen_random_uuid(), ':sale_id'::uuid, now(), '{store.pk}', b.n, b.product_id,"
        " 'x', 'x', 1, 1, false, 0, 0,"
        f" 0, 0, 0, 0, 0, 1, 0, true, 0 FROM {q}bench_items b WHERE b.n IN (:a, :b, :c);\n"
        f"INSERT INTO {q}sales_payment (id, created_at, updated_at, kind, method, amount,"
        " currency, reference, store_id, sale_id) VALUES (gen_random_uuid(), now(), now(),"
        f" 'SALE', 'CASH', 5000, 'USD', '', '{store.pk}', ':sale_id'::uuid);\n"
        f"WITH l AS (UPDATE {q}inventory_stocklevel s SET quantity = s.quantity - 1,"
        f" updated_at = now() FROM (SELECT level_id FROM {q}bench_items"
        " WHERE n IN (:a, :b, :c) ORDER BY level_id) b"
        " WHERE s.id = b.level_id AND s.quantity >= 1 RETURNING s.*)\n"
        f"INSERT INTO {q}inventory_stockmovement (id, store_id, product_id, variant_id, type,"
        " delta, quantity_after, reason, note, reference_type, reference_id, user_id,"
        " created_at) SELECT gen_random_uuid(), store_id, product_id, variant_id, 'SALE', -1,"
        " quantity, '', '', 'sale', ':sale_id'::uuid, NULL, now() FROM l;\n"
        "COMMIT;\n"
    )
    return pgbench_run(script, seconds)


def wrk_run(command: list[str], env: dict) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p95 ms); any non-2xx answer fails the run."""
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    out = result.stdout
    if result.returncode != 0 or re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise SystemExit(f"wrk failed or saw errors:\n{result.stderr}{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = int(re.search(r"p50_us=(\d+)", out).group(1)) / 1000
    p95 = int(re.search(r"p95_us=(\d+)", out).group(1)) / 1000
    return rate, p50, p95


def api_runs(tenant, cashier, store, products, seconds: int, tmp: Path):
    connections.close_all()
    port = free_port()
    process = start_server("gunicorn", port, tenant.schema_name, tmp / "server.log")
    try:
        (tmp / "products.txt").write_text("\n".join(str(pk) for pk in products) + "\n")
        (tmp / "checkout.lua").write_text(LUA)
        command = [
            "wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(tmp / "checkout.lua"),
            "-H", f"Authorization: Bearer {token_pair_issue(user=cashier).access}",
            "-H", "Content-Type: application/json",
            f"http://127.0.0.1:{port}/api/v1/sales/checkout",
        ]  # fmt: skip
        env = {**os.environ, "WRK_PRODUCTS": str(tmp / "products.txt"), "WRK_STORE": str(store.pk)}
        subprocess.run([*command[:3], "-d2s", *command[4:]], env=env, capture_output=True)
        spread = wrk_run(command, {**env, "WRK_HOT": "0"})
        hot = wrk_run(command, {**env, "WRK_HOT": "1"})
        # a checkout's own latency: one request at a time per worker (no queue behind others)
        alone = wrk_run([command[0], command[1], "-c2", *command[3:]], {**env, "WRK_HOT": "0"})
        return spread, hot, alone
    finally:
        stop_server(process)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    tmp = Path(tempfile.mkdtemp(prefix="mipos-bench-"))
    try:
        tenant, cashier, store, products = seed()
        spread, hot, alone = api_runs(tenant, cashier, store, products, args.duration, tmp)
        with tenant_context(tenant):
            sales = Sale.objects.count()
        base = pgbench_tps(tenant, store, products, args.duration, tmp, hot=False)
        base_hot = pgbench_tps(tenant, store, products, args.duration, tmp, hot=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        connections.close_all()
        if not args.keep:
            company_remove(SLUG)
    db = connection.settings_dict
    (rate, p50, p95), (hot_rate, hot_p50, hot_p95) = spread, hot
    print("Checkout benchmark")
    print(
        f"  PostgreSQL at {db['HOST'] or 'localhost'}; {len(products)} products; {sales:,} sales"
        f" made by the API runs; gunicorn {os.environ.get('GUNICORN_WORKERS', '2')} sync workers,"
        f" wrk 8 connections, {args.duration} s"
    )
    for label, api, sql, latency in (
        ("3-item carts, random products", rate, base, (p50, p95)),
        ("3-item carts, the same 3 products", hot_rate, base_hot, (hot_p50, hot_p95)),
    ):
        ratio = api / sql
        print(
            f"  {label}: API {api:.0f} checkouts/s vs pgbench {sql:.0f} tps: x{ratio:.2f}"
            f"   target >= 0.3  {'MET' if ratio >= 0.3 else 'MISSED'}"
        )
        print(f"    latency under 8 connections: p50 {latency[0]:.1f} ms, p95 {latency[1]:.1f} ms")
    alone_rate, alone_p50, alone_p95 = alone
    print(
        f"  a checkout's own latency (2 connections, {alone_rate:.0f} checkouts/s):"
        f" p50 {alone_p50:.1f} ms, p95 {alone_p95:.1f} ms   target p95 < 50 ms"
        f"  {'MET' if alone_p95 < 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
