"""Load benchmark: a shop's mixed workload against gunicorn, then the data checked.

gunicorn as production serves it (deploy/gunicorn.conf.py: 2 sync workers, production settings,
bench/serving_settings.py), driven by locust run headless (bench/locustfile.py says the workload:
cashiers scanning, quoting and checking out, managers reading reports and returning items, one
back-office user importing products), 16 users for 60 s by default. locust runs on the same
machine: the load generator shares its cores with gunicorn and PostgreSQL.

Prints, per kind of request and overall: requests, failures, p50/p95/p99 and requests/s, and the
expected refusals (422 INSUFFICIENT_STOCK on scarce products, counted as successes). Then checks
in the database: no stock level below zero (the company does not allow negative stock), every
level equal to the sum of its ledger (as apps/inventory/tests do), every checkout locust saw
succeed stored exactly once under its `clientSaleId` and no other sale, every return stored.
Exits non-zero on any failed request or check.

Creates its own company in the development database (DATABASE_URL, or the embedded PostgreSQL
under .data/) and removes it after (`--keep` keeps it).

    make load         # or: .venv/bin/python bench/load.py [--users 16] [--duration 60] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("load", GUNICORN_ACCESS_LOG="")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--users", type=int, default=16, help="locust users (default 16)")
parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
parser.add_argument("--spawn-rate", type=float, default=8, help="users started per second")
parser.add_argument(
    "--keep", action="store_true", help="keep the bench company and the locust files afterwards"
)
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.demo import demo_rows  # noqa: E402
from apps.catalog.imports import products_bulk_import  # noqa: E402
from apps.catalog.models import Product  # noqa: E402
from apps.inventory.models import StockLevel  # noqa: E402
from apps.inventory.services import MAX_ITEMS, AdjustItem, stock_adjust  # noqa: E402
from apps.inventory.tests.conftest import LEDGER_MISMATCHES  # noqa: E402
from apps.sales.models import Sale, SaleReturn  # noqa: E402
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.models import TenantSettings  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from bench.common import (  # noqa: E402
    company_remove,
    free_port,
    percentile,
    start_server,
    stop_server,
)

SLUG = "bench-load"
PASSWORD = "Bench-pass-2026!"
SCARCE = 10  # products with little stock: some checkouts are refused (422), as documented
SCARCE_STOCK = Decimal(5)  # in each store


def seed() -> tuple[object, dict]:
    """The company (negative stock not allowed), 2 stores, a cashier account per user (half in
    each store), managers, the demo catalogue: plenty of stock of every plain product but
    SCARCE_STOCK of SCARCE of them. Returns the tenant and what the locust users need."""
    created = tenant_create(
        name="Bench load", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant):
        if TenantSettings.objects.get(tenant=tenant).allow_negative_stock:
            raise SystemExit("the bench company must not allow negative stock")
        stores = [
            store_create(actor=owner, name=f"Store {code}", code=code, kind="RETAIL")
            for code in ("S1", "S2")
        ]
        cashiers = []
        for n in range(max(1, args.users)):
            store = stores[n % len(stores)]
            email = f"cashier{n + 1:02d}@{SLUG}.bench"
            staff_create(
                actor=owner, tenant=tenant, email=email, password=PASSWORD,
                name=f"Cashier {n + 1}", role="CASHIER", store_ids=[store.pk],
            )  # fmt: skip
            cashiers.append({"email": email, "storeId": str(store.pk)})
        managers = []
        for n in range(max(1, args.users // 4)):
            email = f"manager{n + 1:02d}@{SLUG}.bench"
            staff_create(
                actor=owner, tenant=tenant, email=email, password=PASSWORD,
                name=f"Manager {n + 1}", role="MANAGER",
            )  # fmt: skip
            managers.append(email)
        products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)
        plain = list(
            Product.objects.filter(
                track_stock=True, variants__isnull=True, status="ACTIVE", deleted_at__isnull=True
            )
            .exclude(barcode="")
            .order_by("sku")
            .values("pk", "barcode", "name", "sell_price")
        )
        scarce = {p["pk"] for p in plain[:: len(plain) // SCARCE][:SCARCE]}
        for store in stores:
            items = [
                AdjustItem(p["pk"], None, SCARCE_STOCK if p["pk"] in scarce else Decimal(10**6))
                for p in plain
            ]
            for start in range(0, len(items), MAX_ITEMS):
                stock_adjust(
                    actor=owner, store_id=store.pk, reason="FOUND",
                    items=items[start : start + MAX_ITEMS],
                )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.set_schema_to_public()

    def product(p) -> dict:
        return {
            "id": str(p["pk"]), "barcode": p["barcode"], "name": p["name"],
            "price": str(p["sell_price"]),
        }  # fmt: skip

    setup = {
        "password": PASSWORD,
        "admin": owner.email,
        "managers": managers,
        "cashiers": cashiers,
        "stores": [str(store.pk) for store in stores],
        "products": [product(p) for p in plain if p["pk"] not in scarce],
        "scarce": [product(p) for p in plain if p["pk"] in scarce],
    }
    return tenant, setup


def locust_run(base: str, tmp: Path) -> tuple[int, dict]:
    """locust headless against `base`: its exit code and what its users saw (the locustfile
    writes it once every user has finished its last task: counts, response times, sales)."""
    setup, results = tmp / "setup.json", tmp / "results.json"
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
        "--stop-timeout", "30", "--host", base, "--only-summary",
    ]  # fmt: skip
    env = {**os.environ, "LOAD_SETUP": str(setup), "LOAD_RESULTS": str(results)}
    with open(tmp / "locust.log", "wb") as log:
        code = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if not results.exists():
        raise SystemExit(f"locust wrote no results:\n{(tmp / 'locust.log').read_text()[-4000:]}")
    return code, json.loads(results.read_text())


def checks(tenant, seen: dict) -> list[str]:
    """What must hold in the database after the run; each broken one as a sentence."""
    broken = []
    with tenant_context(tenant):
        negative = StockLevel.objects.filter(quantity__lt=0).count()
        if negative:
            broken.append(f"{negative} stock levels below zero (negative stock is not allowed)")
        with connection.cursor() as cursor:
            cursor.execute(LEDGER_MISMATCHES)
            mismatches = cursor.fetchall()
        if mismatches:
            broken.append(f"{len(mismatches)} levels differ from their ledger: {mismatches[:5]}")
        stored = dict(
            Sale.objects.filter(client_sale_id__isnull=False).values_list("client_sale_id", "pk")
        )
        stored = {str(k): str(v) for k, v in stored.items()}
        sales = Sale.objects.count()
        missing = [c for c, pk in seen["sales"].items() if stored.get(c) != pk]
        if missing:
            broken.append(f"{len(missing)} checkouts locust saw succeed are not stored as seen")
        if sales != len(seen["sales"]):
            broken.append(f"{sales} sales stored, {len(seen['sales'])} checkouts seen succeed")
        returns = set(map(str, SaleReturn.objects.values_list("pk", flat=True)))
        if returns != set(seen["returns"]):
            broken.append(f"{len(returns)} returns stored, {len(seen['returns'])} seen succeed")
        seen["sold_out"] = StockLevel.objects.filter(quantity=0).count()
    connection.set_schema_to_public()
    return broken


def latencies(times: dict) -> list[float]:
    """locust's histogram (ms, as text -> requests) as samples."""
    return [float(ms) for ms, n in times.items() for _ in range(n)]


def row(name: str, entries: list[dict], seconds: float) -> str:
    samples = [s for e in entries for s in latencies(e["times"])]
    count, failed = sum(e["requests"] for e in entries), sum(e["failures"] for e in entries)
    p50, p95, p99 = (percentile(samples, q) if samples else 0 for q in (0.5, 0.95, 0.99))
    return (
        f"  {name:<48} {count:>6} {failed:>5} {p50:>6.0f} {p95:>6.0f} {p99:>6.0f}"
        f" {count / seconds:>7.1f}"
    )


def report(seen: dict, broken: list[str], code: int, db) -> None:
    stats, seconds = seen["stats"], seen["seconds"]
    print("Load benchmark — gunicorn 2 sync workers (deploy/gunicorn.conf.py), production settings")
    print(
        f"  locust {args.users} users ({args.spawn_rate:g}/s), {args.duration} s ({seconds:.0f} s"
        f" with the last tasks), on the same machine: {os.cpu_count()} cores shared by locust,"
        f" gunicorn and PostgreSQL (at {db['HOST'] or 'localhost'}); load average"
        f" {seen['load'][0]:.1f} before, {seen['load'][1]:.1f} after"
    )
    print(
        f"  {'request':<48} {'count':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>7}"
    )
    for entry in sorted(stats, key=lambda e: e["name"]):
        print(row(f"{entry['method']} {entry['name']}", [entry], seconds))
    print(row("ALL", stats, seconds))
    print(row("ALL but the logins (once per user, at the start)", [
        e for e in stats if e["name"] != "auth/login"
    ], seconds))  # fmt: skip
    print("  (latencies in ms, from locust's histogram: exact below 100 ms, to 10 ms below 1 s)")
    refused = ", ".join(f"{n} {what}" for what, n in sorted(seen["refused"].items())) or "none"
    print(
        f"  seen: {len(seen['sales'])} sales ({seen['replays']} sent again with the same"
        f" clientSaleId: 200, the same sale), {len(seen['returns'])} returns,"
        f" {seen['imports']} bulk imports; expected refusals (422, not failures): {refused};"
        f" {seen['sold_out']} scarce levels sold out at the end"
    )
    if not seen["refused"]:
        print("  note: no checkout was refused for stock (the scarce products did not run out)")
    print("  database checks: " + ("all hold" if not broken else "BROKEN"))
    print(
        "    no level below zero; every level = its ledger; every checkout seen stored once under"
        " its clientSaleId and no other sale; every return stored"
    )
    for line in broken:
        print(f"    BROKEN: {line}")
    for line in seen["errors"]:
        print(f"  FAILED: {line}")
    if code != 0:
        print(f"  locust exited with {code}")


def main() -> None:
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    tmp = Path(tempfile.mkdtemp(prefix="mipos-load-"))
    try:
        tenant, setup = seed()
        (tmp / "setup.json").write_text(json.dumps(setup))
        connections.close_all()
        port = free_port()
        process = start_server("gunicorn", port, tenant.schema_name, tmp / "server.log")
        try:
            before = os.getloadavg()[0]
            code, seen = locust_run(f"http://127.0.0.1:{port}", tmp)
            seen["load"] = (before, os.getloadavg()[0])
        finally:
            stop_server(process)
        broken = checks(tenant, seen)
        db = connection.settings_dict
        report(seen, broken, code, db)
        if any(e["failures"] for e in seen["stats"]) or broken or code != 0:
            raise SystemExit(1)
    finally:
        connections.close_all()
        if args.keep:
            print(f"  kept: the company {SLUG!r}; locust's and gunicorn's files in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            company_remove(SLUG)


if __name__ == "__main__":
    main()
