"""Reports benchmark: every report on a year of sales — 250,000 sales with 1,000,000 lines over
5 stores (plus their payments, a return in every 50 sales, a void in every 200, expenses) — in
process through Django's full stack, for the whole year and for one month. Target: < 1 s each
(JSON). Then the CSV export of every sale line of the year (`/reports/sale-lines?format=csv`), streamed: its
time, and the process's peak memory before and after (flat: the export never holds the rows).

Creates its own company in the development database (DATABASE_URL, or the embedded PostgreSQL
under .data/) and removes it after.

    .venv/bin/python bench/reports.py [--sales 250000] [--rounds 3] [--keep] [--reuse]
        [--only sales-summary,market-basket] [--no-csv]

`--keep` leaves the company in place and `--reuse` measures a kept one again without seeding.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("reports")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--sales", type=int, default=250_000)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
parser.add_argument("--reuse", action="store_true", help="measure a kept company, if any")
parser.add_argument("--only", default="", help="comma-separated report names to measure")
parser.add_argument("--no-csv", action="store_true", help="skip the sale-lines CSV export")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import company_remove  # noqa: E402

SLUG = "bench-reports"
PASSWORD = "Bench-pass-2026!"
LINES_PER_SALE = 4
PRODUCTS = 200
YEAR = ("2025-12-01", "2026-11-30")
MONTH = ("2026-06-01", "2026-06-30")


def seed(sales: int):
    created = tenant_create(
        name="Bench reports", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant):
        stores = [
            store_create(actor=owner, name=f"Shop {n}", code=f"S{n}", kind="RETAIL")
            for n in range(5)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO catalog_category (id, name, description, position, parent_id,"
                " created_at, updated_at, deleted_at) SELECT gen_random_uuid(), 'Category ' || g,"
                " '', g, NULL, now(), now(), NULL FROM generate_series(1, 10) AS g"
            )
            cursor.execute(
                "INSERT INTO catalog_product (id, name, sku, barcode, description, category_id,"
                " brand_id, unit_id, status, cost_price, sell_price, tax_rate, track_stock,"
                " attributes, created_at, updated_at, deleted_at)"
                " SELECT gen_random_uuid(), 'Product ' || p, 'BR-' || p, NULL, '',"
                " (SELECT id FROM catalog_category ORDER BY position OFFSET p %% 10 LIMIT 1),"
                " NULL, NULL, 'ACTIVE', 1 + (p %% 7), 2 + (p %% 11), 23, true, '[]'::jsonb,"
                " now(), now(), NULL FROM generate_series(1, %s) AS p",
                [PRODUCTS],
            )
            store_ids = [str(s.pk) for s in stores]
            # the sales, spread over the year; totals filled from their lines below
            cursor.execute(
                "INSERT INTO sales_sale (id, created_at, updated_at, number, sequence, store_id,"
                " cashier_id, customer_id, client_sale_id, request_hash, status, subtotal,"
                " discount_total, tax_total, rounding_adjustment, total, paid_total, change_due,"
                " due_amount, due_paid, due_returned, points_earned, points_redeemed,"
                " points_value, group_discount_percent, cart_discount, prices_include_tax,"
                " currency, note, voided_at, voided_by, void_reason, shift_id, void_shift_id,"
                " receipt_count, void_receipt_count)"
                " SELECT gen_random_uuid(), t, t, 'INV-B-' || i, i, (%s::uuid[])[1 + i %% 5],"
                " %s::uuid, NULL, NULL, '', CASE WHEN i %% 200 = 0 THEN 'VOIDED' ELSE 'COMPLETED' END,"
                " 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, false, 'USD', '',"
                " CASE WHEN i %% 200 = 0 THEN t + interval '5 minutes' END,"
                " CASE WHEN i %% 200 = 0 THEN %s::uuid END, '', NULL, NULL, 0, 0"
                " FROM generate_series(1, %s) AS i,"
                " LATERAL (SELECT timestamptz '2025-12-01 08:00+00'"
                "   + (i::float8 / %s) * interval '365 days' AS t) AS at",
                [store_ids, str(owner.pk), str(owner.pk), sales, sales],
            )
            cursor.execute(
                "INSERT INTO sales_saleitem (id, sale_id, sold_at, store_id, position, product_id,"
                " variant_id, name, sku, quantity, unit_price, price_overridden, discount,"
                " line_discount, group_discount, cart_discount, points_discount, discount_amount,"
                " tax_rate, tax_amount, line_total, unit_cost, track_stock, returned_quantity)"
                " SELECT gen_random_uuid(), s.id, s.created_at, s.store_id, k, p.id, NULL, p.name,"
                " p.sku, q.n, p.sell_price,"
                " false, NULL, 0, 0, 0, 0, 0, 23, round(q.n * p.sell_price * 0.23, 2),"
                " q.n * p.sell_price + round(q.n * p.sell_price * 0.23, 2), p.cost_price, true, 0"
                " FROM sales_sale s CROSS JOIN generate_series(0, %s) AS k"
                " CROSS JOIN LATERAL (SELECT 1 + (s.sequence + k) %% 3 AS n) AS q"
                " JOIN LATERAL (SELECT id, name, sku, sell_price, cost_price FROM catalog_product"
                "   ORDER BY sku OFFSET (s.sequence * 7 + k * 13) %% %s LIMIT 1) AS p ON true",
                [LINES_PER_SALE - 1, PRODUCTS],
            )
            cursor.execute(
                "UPDATE sales_sale s SET subtotal = l.net, tax_total = l.tax, total = l.total,"
                " untaxed_gross = l.net, paid_total = l.total, product_ids = l.ids FROM (SELECT"
                " sale_id,"
                " sum(line_total - tax_amount) AS net, sum(tax_amount) AS tax,"
                " sum(line_total) AS total, array_agg(DISTINCT product_id ORDER BY product_id)"
                " AS ids FROM sales_saleitem GROUP BY sale_id) AS l WHERE l.sale_id = s.id"
            )
            cursor.execute(
                "INSERT INTO sales_payment (id, created_at, updated_at, kind, method, amount,"
                " currency, reference, store_id, sale_id, sale_return_id, customer_id,"
                " created_by, shift_id) SELECT gen_random_uuid(), created_at, created_at, 'SALE',"
                " CASE WHEN sequence % 3 = 0 THEN 'CARD' ELSE 'CASH' END, total, 'USD', '',"
                " store_id,"
                " id, NULL, NULL, cashier_id, NULL FROM sales_sale"
            )
            cursor.execute(
                "INSERT INTO expenses_expensecategory (id, name, created_at, updated_at,"
                " deleted_at) VALUES (gen_random_uuid(), 'Rent', now(), now(), NULL)"
            )
            cursor.execute(
                "INSERT INTO expenses_expense (id, category_id, store_id, amount, currency, date,"
                " description, payment_method, reference, created_by, created_at, updated_at,"
                " deleted_at) SELECT gen_random_uuid(), (SELECT id FROM expenses_expensecategory),"
                " (%s::uuid[])[1 + d %% 5], 100 + d %% 50, 'USD', date '2025-12-01' + d, '',"
                " 'CASH', '',"
                " NULL, now(), now(), NULL FROM generate_series(0, 364) AS d",
                [store_ids],
            )
            for table in ("sales_sale", "sales_saleitem", "sales_payment", "expenses_expense"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass
    connection.set_schema_to_public()
    return tenant, owner


def kept_owner():
    from apps.users.models import User

    return User.objects.filter(tenant__slug=SLUG, email=f"owner@{SLUG}.bench").first()


def timed(client: Client, headers: dict, path: str, query: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path, query, **headers)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    # a streamed body is counted as it comes, never held
    size = (
        sum(map(len, response.streaming_content)) if response.streaming else len(response.content)
    )
    return time.perf_counter() - started, size


def main() -> None:
    call_command("migrate", verbosity=0)
    owner = kept_owner() if args.reuse else None
    if owner is None:
        company_remove(SLUG)
        started = time.perf_counter()
        _tenant, owner = seed(args.sales)
        print(f"seeded {args.sales:,} sales, {args.sales * LINES_PER_SALE:,} lines in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    else:
        print("measuring the kept company (--reuse)")
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_pair_issue(user=owner).access}"}
    reports = [
        "/api/v1/reports/sales", "/api/v1/reports/tax", "/api/v1/reports/profit",
        "/api/v1/reports/cashier",
        "/api/v1/reports/sales-summary", "/api/v1/reports/financial",
        "/api/v1/reports/inventory", "/api/v1/analytics/market-basket",
        "/api/v1/analytics/top-products",
    ]  # fmt: skip
    paths = [*reports, "/api/v1/reports/stock"]
    if args.only:
        paths = [p for p in paths if p.rsplit("/", 1)[1] in args.only.split(",")]
    print(f"{'report':38} {'year':>9} {'month':>9}   (median of {args.rounds}, target < 1 s)")
    worst = 0.0
    try:
        timed(client, headers, reports[0], {})  # warm
        for path in paths:
            figures = []
            for start, end in (YEAR, MONTH):
                query = {} if path.endswith("/stock") else {"from": start, "to": end}
                samples = [timed(client, headers, path, query)[0] for _ in range(args.rounds)]
                figures.append(statistics.median(samples))
            worst = max(worst, *figures)
            print(f"{path:38} {figures[0] * 1000:8.0f}ms {figures[1] * 1000:8.0f}ms")
        if args.no_csv:
            return
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds, size = timed(
            client, headers, "/api/v1/reports/sale-lines",
            {"format": "csv", "from": YEAR[0], "to": YEAR[1]},
        )  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"CSV of every sale line of the year: {size / 1e6:.1f} MB in {seconds:.1f} s;"
              f" peak RSS {before / 1024:.0f} MB before, {after / 1024:.0f} MB after")  # fmt: skip
        print(f"slowest report: {worst * 1000:.0f} ms ({'met' if worst < 1 else 'MISSED'})")
    finally:
        if not (args.keep or args.reuse):
            company_remove(SLUG)


if __name__ == "__main__":
    main()
