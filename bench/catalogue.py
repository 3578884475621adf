"""Catalogue benchmark, in one run:

1. bulk imports into an empty catalogue: 5,000 and 10,000 product rows (target < 10 s) and
   5,000 and 25,000 variant rows (each rolled back), then the 50,000-row import that builds the
   catalogue the rest uses; time, rows/s and the 50,000 / 5,000 time ratio (linear: ~10);
2. barcode lookups per second through the API (token, tenant routing, permission, envelope)
   against a bare DRF view doing the same single indexed SELECT on the same database
   (ratio target >= 0.6);
3. product-list latency on the 50,000-product catalogue: pages, searches, filters, sorts
   (p95 target < 50 ms).

Requests go through Django's full WSGI stack in-process (no network, one client), so the
figures compare server-side work. Uses the development database and removes its tenant.

    make bench-catalogue     # or: .venv/bin/python bench/catalogue.py [--products 50000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mipos.settings.dev")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEBUG"] = "0"  # no query log, no debug pages: production-like timings
# One client sends thousands of requests a second: lift the per-user rate limit for the run.
os.environ["THROTTLE_USER"] = "100000000/min"
os.environ["THROTTLE_ANON"] = "100000000/min"
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.demo import ean13  # noqa: E402
from apps.catalog.imports import products_bulk_import  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.bare_urls import BENCH_SCHEMA  # noqa: E402
from bench.common import company_remove, percentile  # noqa: E402

SLUG = "bench-catalogue"
PASSWORD = "Bench-pass-2026!"
ADJECTIVES = "fresh organic classic smoked spicy sweet salted crispy creamy dark light mini".split()
NOUNS = (
    "coffee tea cola juice water bread cheese butter yogurt chips cookies soap shampoo "
    "towel candle battery charger notebook pencil socks gloves scarf mug plate"
).split()
CATEGORIES = ["Food/Snacks", "Food/Dairy", "Drinks/Soft", "Drinks/Hot", "Home/Kitchen", "Home/Bath",
              "Office/Paper", "Apparel/Accessories"]  # fmt: skip


def rows(start: int, count: int, rng: random.Random) -> list[dict]:
    out = []
    for seq in range(start, start + count):
        out.append(
            {
                "sku": f"B{seq:06d}",
                "name": f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)} {seq % 997}",
                "barcode": ean13(500_000 + seq),
                "category": rng.choice(CATEGORIES),
                "status": "ACTIVE",
                "costPrice": f"{rng.randint(50, 5000) / 100:.2f}",
                "sellPrice": f"{rng.randint(100, 9000) / 100:.2f}",
            }
        )
    return out


def variant_rows(count: int) -> list[dict]:
    """One product with one variant per row: the path that was quadratic in rows."""
    return [
        {"sku": f"V{seq:06d}", "name": f"Variant product {seq}", "variantSku": f"V{seq:06d}-M",
         "variantBarcode": ean13(900_000 + seq), "variantAttributes": "Size=M;Color=Red"}
        for seq in range(count)
    ]  # fmt: skip


KINDS = ["page", "search name", "search sku", "price filter", "status+sort"]


def cleanup() -> None:
    company_remove(SLUG)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--list-requests", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
    args = parser.parse_args()
    rng = random.Random(7)

    call_command("migrate", verbosity=0)
    cleanup()
    created = tenant_create(
        name="Bench catalogue", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    BENCH_SCHEMA["name"] = tenant.schema_name
    try:
        with tenant_context(tenant):
            cashier = staff_create(
                actor=owner, tenant=tenant, email=f"cashier@{SLUG}.bench",
                password=PASSWORD, name="Cashier", role="CASHIER",
            )  # fmt: skip
            imports = {}  # label -> (rows, seconds)

            def timed_import(label: str, file: list[dict], keep: bool) -> None:
                with transaction.atomic():
                    started = time.perf_counter()
                    report = products_bulk_import(actor=owner, rows=file, create_missing=True)
                    imports[label] = (len(file), time.perf_counter() - started)
                    assert report.products_created == len(file) and not report.errors, report
                    transaction.set_rollback(not keep)

            timed_import("5,000 product rows", rows(0, 5_000, rng), keep=False)
            timed_import("10,000 product rows", rows(0, 10_000, rng), keep=False)
            timed_import("5,000 variant rows", variant_rows(5_000), keep=False)
            timed_import("25,000 variant rows", variant_rows(25_000), keep=False)
            timed_import(f"{args.products:,} product rows", rows(0, args.products, rng), keep=True)
            with connection.cursor() as cursor:  # what autovacuum does after a big load
                cursor.execute("VACUUM ANALYZE catalog_product")
        connection.set_schema_to_public()

        client = Client()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token_pair_issue(user=cashier).access}"}
        codes = [ean13(500_000 + rng.randrange(args.products)) for _ in range(args.lookups)]

        def run(url_for, headers) -> float:
            started = time.perf_counter()
            for code in codes:
                response = client.get(url_for(code), **headers)
                assert response.status_code == 200, response.content[:200]
            return len(codes) / (time.perf_counter() - started)

        with override_settings(ROOT_URLCONF="bench.bare_urls"):
            api_url, bare_url = (
                "/api/v1/products/lookup/barcode/{}".format,
                "/bare/barcode/{}".format,
            )
            run(api_url, auth), run(bare_url, {})  # warm-up
            api_rates, bare_rates = [], []
            for _ in range(3):  # interleaved rounds, so drift hits both alike
                api_rates.append(run(api_url, auth))
                bare_rates.append(run(bare_url, {}))
        api_rate, bare_rate = statistics.median(api_rates), statistics.median(bare_rates)

        words = ADJECTIVES + NOUNS
        queries = []
        for index in range(args.list_requests):
            kind = index % 5
            if kind == 0:
                queries.append({"page": rng.randint(1, 50), "limit": 20})
            elif kind == 1:
                queries.append({"search": rng.choice(words)})
            elif kind == 2:
                queries.append({"search": f"B{rng.randrange(args.products):06d}"[:5]})
            elif kind == 3:
                queries.append({"sort": "-sellPrice", "minPrice": "10", "maxPrice": "40"})
            else:
                queries.append({"status": "ACTIVE", "sort": "-createdAt", "limit": 50})
        for query in queries[:20]:
            client.get("/api/v1/products", query, **auth)  # warm-up
        latencies, by_kind = [], {}
        for index, query in enumerate(queries):
            started = time.perf_counter()
            response = client.get("/api/v1/products", query, **auth)
            elapsed = (time.perf_counter() - started) * 1000
            latencies.append(elapsed)
            by_kind.setdefault(KINDS[index % 5], []).append(elapsed)
            assert response.status_code == 200, response.content[:200]
    finally:
        if not args.keep:
            cleanup()

    ratio = api_rate / bare_rate
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        f"Catalogue benchmark ({args.products} products, PostgreSQL {connection.settings_dict['HOST'] or 'local'})"
    )
    for label, (count, seconds) in imports.items():
        line = f"  bulk import, {label:<22} {seconds:6.2f} s  {count / seconds:8.0f} rows/s"
        if label == "10,000 product rows":
            line += f"   target < 10 s   {'MET' if seconds < 10 else 'MISSED'}"
        print(line)
    big = imports[f"{args.products:,} product rows"]
    small, v_small, v_big = (imports[k] for k in ("5,000 product rows", "5,000 variant rows",
                                                  "25,000 variant rows"))  # fmt: skip
    print(
        f"  linearity: {big[0]:,} / 5,000 product rows take {big[1] / small[1]:.1f}x the time "
        f"({big[0] / 5_000:.0f}x the rows); 25,000 / 5,000 variant rows {v_big[1] / v_small[1]:.1f}x (5x the rows)"
    )
    print(f"  barcode lookup through the API   {api_rate:7.0f} req/s")
    print(f"  bare DRF view, same SELECT       {bare_rate:7.0f} req/s")
    print(
        f"  ratio API / bare                 {ratio:7.2f}            target >= 0.6   {'MET' if ratio >= 0.6 else 'MISSED'}"
    )
    print(
        f"  product list, {len(latencies)} requests     p50 {p50:5.1f} ms  p95 {p95:5.1f} ms   target p95 < 50 ms   {'MET' if p95 < 50 else 'MISSED'}"
    )
    for kind, samples in by_kind.items():
        print(
            f"    {kind:<14} p50 {percentile(samples, 0.5):5.1f} ms  p95 {percentile(samples, 0.95):5.1f} ms"
        )


if __name__ == "__main__":
    main()
