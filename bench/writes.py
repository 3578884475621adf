"""Write-path benchmark: what the shared write path (authentication, throttles, idempotency,
validation, audit, events, answer) costs on top of the SQL a write runs, in ONE run.

gunicorn as production serves it (deploy/gunicorn.conf.py, production settings) with ONE sync
worker, wrk 2 threads x 4 connections, each target for `--duration` seconds (rounds
interleaved, medians). For each write endpoint, as the company's owner:

- adjust:   `POST /api/v1/inventory/stock/adjust`, 1 unit of a random product out (DAMAGE);
- checkout: `POST /api/v1/sales/checkout`, a 3-item cart of random products paid in cash;
- due:      `POST /api/v1/payments/collect-due`, 1.00 in cash from a customer who owes
            100,000,000 (an opening balance: no due sale to settle);
- ship:     `POST /api/v1/inventory/transfers/<id>/ship` of a PENDING transfer of 1 item: a pool
            of transfers is made beforehand (SQL copies of one made by the service) and every
            request ships a different one (wrk's threads take alternate ids of a list);

against its bare view (bench/writes_bare.py: the same SQL statements in one transaction, with
no authentication, audit, event, serializer or envelope), on the same server, with the same
bodies and headers; plus the barcode lookup (GET) and its bare view as the reference of the
serving bench. It prints per endpoint real and bare req/s, the ratio, the target (adjust and
checkout >= 0.5x of bare), p50 / p99 latencies, and the statements per request of both
(captured in-process before the server starts, where it also checks that both write the same
tables with the same statements, the audit row aside).

It creates its own company with the demo catalogue in the development database (DATABASE_URL,
or the embedded PostgreSQL under .data/) and removes it after.

    make bench-writes   # or: .venv/bin/python bench/writes.py [--duration 10] [--rounds 1]
    .venv/bin/python bench/writes.py --idempotency      # an Idempotency-Key on every write
    .venv/bin/python bench/writes.py --profile adjust,checkout   # + py-spy: where time goes
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/writes.py   # as production:
        # the auth cache, throttle counters and events through Redis (without it: no auth
        # cache, an in-memory channel layer)

The statements counted are the ones Django sends (one execute may carry several statements);
BEGIN and COMMIT come on top of both. The bare views skip the throttles' cache round trips and
the events' sends as well: with Redis those are part of the measured cost.

Needs `wrk` (Debian/Ubuntu: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings(
    "writes",
    DJANGO_SETTINGS_MODULE="bench.writes_settings",
    GUNICORN_ACCESS_LOG="",
    GUNICORN_WORKERS=os.environ.get("GUNICORN_WORKERS", "1"),
)

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
parser.add_argument("--connections", type=int, default=4, help="wrk connections")
parser.add_argument("--only", default="", help="comma-separated targets (adjust,checkout,…)")
parser.add_argument(
    "--idempotency", action="store_true",
    help="every write request with its own Idempotency-Key (the bare views ignore it)",
)  # fmt: skip
parser.add_argument("--show-sql", action="store_true", help="print the captured statements")
parser.add_argument(
    "--profile", default="", metavar="TARGETS",
    help="after the measurements, sample the worker with py-spy while wrk drives these targets"
    " (e.g. adjust,checkout), API and bare; prints where the time goes (bench/writes_profile.py)",
)  # fmt: skip
parser.add_argument("--profile-dir", help="keep py-spy's raw stacks there (flame graphs)")
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
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
from apps.customers.services import customer_balance_adjust, customer_create  # noqa: E402
from apps.inventory.services import (  # noqa: E402
    MAX_ITEMS,
    AdjustItem,
    TransferLine,
    stock_adjust,
    transfer_create,
)
from apps.stores.services import store_create  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench import writes_bare, writes_profile  # noqa: E402
from bench.bare_urls import BENCH_SCHEMA  # noqa: E402
from bench.common import company_remove, free_port, start_server, stop_server  # noqa: E402

SLUG = "bench-writes"
PASSWORD = "Bench-pass-2026!"
THREADS = 2
# Transfers made per side (API, bare) and per second of wrk: more than either ships.
TRANSFERS_PER_SECOND = 1500
TARGETS = {"adjust": 0.5, "checkout": 0.5, "due": None, "ship": None, "barcode": None}

LUA = """
local kind = os.getenv("WRK_KIND")
local path = os.getenv("WRK_PATH")
local store = os.getenv("WRK_STORE")
local customer = os.getenv("WRK_CUSTOMER")
local threads = tonumber(os.getenv("WRK_THREADS"))
local ids = {}
for line in io.lines(os.getenv("WRK_IDS")) do ids[#ids + 1] = line end
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
math.randomseed(os.time())
local n = 0
local function pick() return ids[math.random(#ids)] end
local idempotent = os.getenv("WRK_IDEMPOTENCY") == "1"
request = function()
  n = n + 1
  local headers = nil
  if idempotent then  -- a new key per request, as a till sends with each sale
    headers = {}  -- wrk.format takes these instead of the -H ones: copy them
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Idempotency-Key"] = string.format("k-%d-%d-%d", tid, n, math.random(1000000000))
  end
  if kind == "adjust" then
    return wrk.format("POST", path, headers, '{"storeId":"' .. store .. '","reason":"DAMAGE",'
      .. '"items":[{"productId":"' .. pick() .. '","delta":"-1"}]}')
  elseif kind == "checkout" then
    local a, b, c = math.random(#ids), math.random(#ids), math.random(#ids)
    while b == a do b = math.random(#ids) end
    while c == a or c == b do c = math.random(#ids) end
    return wrk.format("POST", path, headers, '{"storeId":"' .. store .. '","items":['
      .. '{"productId":"' .. ids[a] .. '","quantity":"1"},'
      .. '{"productId":"' .. ids[b] .. '","quantity":"2"},'
      .. '{"productId":"' .. ids[c] .. '","quantity":"1"}],'
      .. '"payments":[{"method":"CASH","amount":"1000.00"}]}')
  elseif kind == "due" then
    return wrk.format("POST", path, headers, '{"customerId":"' .. customer .. '","amount":"1.00",'
      .. '"method":"CASH","storeId":"' .. store .. '"}')
  elseif kind == "ship" then
    -- thread t ships ids t+1, t+1+threads, ...: every request a different PENDING transfer
    local id = ids[tid + 1 + (n - 1) * threads] or "00000000-0000-0000-0000-000000000000"
    return wrk.format("POST", path .. id .. "/ship", headers, "")
  else
    return wrk.format("GET", path .. pick())
  end
end
done = function(summary, latency, requests)
  io.write(string.format("p50_us=%d\\n", latency:percentile(50)))
  io.write(string.format("p99_us=%d\\n", latency:percentile(99)))
end
"""


def seed():
    """The company: two stores, the demo catalogue, 10^9 of every plain product in S1, a
    customer owing 10^8, one PENDING transfer S1 → S2 of 1 unit (made by the service)."""
    created = tenant_create(
        name="Bench writes", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    rows = demo_rows()
    with tenant_context(tenant):
        s1 = store_create(actor=owner, name="Store S1", code="S1", kind="RETAIL")
        s2 = store_create(actor=owner, name="Store S2", code="S2", kind="RETAIL")
        products_bulk_import(actor=owner, rows=rows, create_missing=True)
        plain = list(
            Product.objects.filter(
                track_stock=True, variants__isnull=True, status="ACTIVE", deleted_at__isnull=True
            ).values_list("pk", flat=True)
        )
        for start in range(0, len(plain), MAX_ITEMS):
            stock_adjust(
                actor=owner, store_id=s1.pk, reason="FOUND",
                items=[AdjustItem(pk, None, Decimal(10**9)) for pk in plain[start : start + MAX_ITEMS]],
            )  # fmt: skip
        customer = customer_create(actor=owner, name="Bench debtor")
        customer_balance_adjust(
            actor=owner, customer_id=customer.pk, amount=Decimal(10**8), reason="Opening"
        )
        template = transfer_create(
            actor=owner, from_store_id=s1.pk, to_store_id=s2.pk, note="",
            items=[TransferLine(plain[0], None, Decimal(1))],
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.set_schema_to_public()
    barcodes = [row["barcode"] for row in rows if row.get("barcode")]
    return tenant, owner, s1, customer, plain, template, barcodes


def transfers_copy(tenant, template, count: int) -> list[str]:
    """`count` PENDING copies of the template transfer (numbers after it), with its line."""
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "WITH t AS (INSERT INTO inventory_transfer (id, created_at, updated_at, number,"
            " from_store_id, to_store_id, status, note, created_by)"
            " SELECT gen_random_uuid(), now(), now(),"
            " (SELECT max(number) FROM inventory_transfer) + i, from_store_id, to_store_id,"
            " 'PENDING', '', created_by FROM inventory_transfer, generate_series(1, %s) i"
            " WHERE id = %s RETURNING id),"
            " i AS (INSERT INTO inventory_transferitem (id, transfer_id, product_id, variant_id,"
            " position, quantity) SELECT gen_random_uuid(), t.id, x.product_id, x.variant_id,"
            " x.position, x.quantity FROM t, inventory_transferitem x WHERE x.transfer_id = %s)"
            " SELECT id FROM t",
            [count, template.pk, template.pk],
        )
        ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.execute("ANALYZE inventory_transfer, inventory_transferitem")
    connection.set_schema_to_public()
    return ids


# --- statements per request, in-process --------------------------------------------------------
WRITE = re.compile(
    r"(?<!FOR )\b(?:INSERT\s+INTO|UPDATE)\s+((?:\"?\w+\"?\.)?\"?(\w+)\"?)", re.IGNORECASE
)
NOT_SHARED_PATH = {"audit_auditlog", "core_idempotencyrecord"}


def writes_of(statements: list[str]) -> Counter:
    """(statement kind, table) of every INSERT / UPDATE in the statements (one execute may
    send several)."""
    found = Counter()
    for sql in statements:
        for match in WRITE.finditer(sql):
            table = match.group(2)
            if table.upper() in ("SET", "OF"):  # DO UPDATE SET; FOR UPDATE OF
                continue
            kind = "INSERT" if match.group(0).upper().startswith("INSERT") else "UPDATE"
            found[(kind, table)] += 1
    return found


def capture(client: Client, method: str, path: str, body) -> tuple[int, list[str]]:
    statements: list[str] = []

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    data = json.dumps(body) if body is not None else ""
    extra = {}
    if args.idempotency and method == "post":  # counted with the key's statements
        extra["HTTP_IDEMPOTENCY_KEY"] = f"capture-{uuid.uuid4()}"
    with connection.execute_wrapper(wrapper):
        response = getattr(client, method)(path, data, content_type="application/json", **extra)
    if response.status_code >= 300:
        raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:500]!r}")
    return response.status_code, statements


def statements_check(tenant, owner, s1, customer, plain, pools, barcodes) -> dict[str, tuple]:
    """Each endpoint and its bare view once (after one warm-up call each), statements counted;
    exits if they write different tables (the audit row aside)."""
    BENCH_SCHEMA["name"] = tenant.schema_name
    writes_bare.ACTOR["id"] = owner.pk
    writes_bare.TENANT["id"] = tenant.pk
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=owner).access}")
    store = str(s1.pk)
    bodies = {
        "adjust": {
            "storeId": store, "reason": "DAMAGE",
            "items": [{"productId": str(plain[0]), "delta": "-1"}],
        },
        "checkout": {
            "storeId": store,
            "items": [
                {"productId": str(plain[0]), "quantity": "1"},
                {"productId": str(plain[1]), "quantity": "2"},
                {"productId": str(plain[2]), "quantity": "1"},
            ],
            "payments": [{"method": "CASH", "amount": "1000.00"}],
        },
        "due": {"customerId": str(customer.pk), "amount": "1.00", "method": "CASH", "storeId": store},
    }  # fmt: skip
    paths = {
        "adjust": ("inventory/stock/adjust", "inventory/stock/adjust"),
        "checkout": ("sales/checkout", "sales/checkout"),
        "due": ("payments/collect-due", "payments/collect-due"),
    }
    found = {}
    for name, (real, bare) in paths.items():
        runs = []
        for prefix, route in (("/api/v1/", real), ("/bare/", bare)):
            capture(client, "post", prefix + route, bodies[name])
            runs.append(capture(client, "post", prefix + route, bodies[name])[1])
        found[name] = tuple(runs)
    ship = []
    for prefix, pool in (("/api/v1/", pools["api"]), ("/bare/", pools["bare"])):
        capture(client, "post", f"{prefix}inventory/transfers/{pool.pop()}/ship", None)
        ship.append(
            capture(client, "post", f"{prefix}inventory/transfers/{pool.pop()}/ship", None)[1]
        )
    found["ship"] = tuple(ship)
    barcode = []
    for path in (f"/api/v1/products/lookup/barcode/{barcodes[0]}", f"/bare/barcode/{barcodes[0]}"):
        capture(client, "get", path, None)
        barcode.append(capture(client, "get", path, None)[1])
    found["barcode"] = tuple(barcode)
    for name, (real, bare) in found.items():
        shared = writes_of(real)
        for table in NOT_SHARED_PATH:
            for kind in ("INSERT", "UPDATE"):
                shared.pop((kind, table), None)
        if shared != writes_of(bare):
            raise SystemExit(
                f"{name}: the bare view does not write what the endpoint writes:\n"
                f"  endpoint {sorted(writes_of(real).items())}\n"
                f"  bare     {sorted(writes_of(bare).items())}"
            )
        if args.show_sql:
            for label, statements in (("real", real), ("bare", bare)):
                print(f"--- {name} {label}: {len(statements)} statements")
                for sql in statements:
                    print("   ", " ".join(sql.split())[:220])
    connection.set_schema_to_public()
    return found


# --- wrk --------------------------------------------------------------------------------------
def wrk(url: str, env: dict, headers: list[str], seconds: int, tmp: Path) -> tuple:
    """(req/s, p50 ms, p99 ms, requests); any non-2xx answer or socket error fails the run."""
    script = tmp / "writes.lua"
    script.write_text(LUA)
    command = [
        "wrk", f"-t{THREADS}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), *headers, url,
    ]  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, **env, "WRK_THREADS": str(THREADS)},
        capture_output=True, text=True,
    )  # fmt: skip
    out = result.stdout
    if result.returncode != 0 or re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise SystemExit(f"wrk failed or saw errors on {url} ({env.get('WRK_PATH')}):\n"
                         f"{result.stderr}{out}")  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = int(re.search(r"p50_us=(\d+)", out).group(1)) / 1000
    p99 = int(re.search(r"p99_us=(\d+)", out).group(1)) / 1000
    return rate, p50, p99, count


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")
    only = [name for name in args.only.split(",") if name] or list(TARGETS)
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    tmp = Path(tempfile.mkdtemp(prefix="mipos-bench-"))
    process = None
    try:
        tenant, owner, s1, customer, plain, template, barcodes = seed()
        per_side = TRANSFERS_PER_SECOND * (args.duration * args.rounds + 2) + 10
        ids = transfers_copy(tenant, template, 2 * per_side)
        pools = {"api": ids[:per_side], "bare": ids[per_side:]}
        found = statements_check(tenant, owner, s1, customer, plain, pools, barcodes)

        os.environ["BENCH_ACTOR"] = str(owner.pk)
        os.environ["BENCH_TENANT"] = str(tenant.pk)
        connections.close_all()
        port = free_port()
        process = start_server("gunicorn", port, tenant.schema_name, tmp / "server.log")
        base = f"http://127.0.0.1:{port}"
        headers = [
            "-H", f"Authorization: Bearer {token_pair_issue(user=owner).access}",
            "-H", "Content-Type: application/json",
        ]  # fmt: skip
        products = tmp / "products.txt"
        products.write_text("\n".join(str(pk) for pk in plain) + "\n")
        codes = tmp / "barcodes.txt"
        codes.write_text("\n".join(barcodes) + "\n")
        common = {"WRK_STORE": str(s1.pk), "WRK_CUSTOMER": str(customer.pk)}
        routes = {
            "adjust": ("inventory/stock/adjust", "inventory/stock/adjust", products),
            "checkout": ("sales/checkout", "sales/checkout", products),
            "due": ("payments/collect-due", "payments/collect-due", products),
            "ship": ("inventory/transfers/", "inventory/transfers/", None),
            "barcode": ("products/lookup/barcode/", "barcode/", codes),
        }

        def run(name: str, side: str, seconds: int):
            real, bare, listing = routes[name]
            path = f"/api/v1/{real}" if side == "api" else f"/bare/{bare}"
            if listing is None:  # the next unused transfers of this side's pool
                listing = tmp / f"transfers-{side}.txt"
                listing.write_text("\n".join(pools[side]) + "\n")
            env = {**common, "WRK_KIND": name, "WRK_PATH": path, "WRK_IDS": str(listing),
                   "WRK_IDEMPOTENCY": "1" if args.idempotency else "0"}  # fmt: skip
            try:
                result = wrk(base + path, env, headers, seconds, tmp)
            except SystemExit:
                print((tmp / "server.log").read_text()[-3000:], file=sys.stderr)
                raise
            if name == "ship":  # each thread used at most its share + its connections
                del pools[side][: result[3] + args.connections + THREADS]
            return result

        for name in only:  # warm-up: imports, caches, prepared statements
            for side in ("api", "bare"):
                run(name, side, 1)
        results: dict[tuple[str, str], list[tuple]] = {}
        for _ in range(args.rounds):
            for name in only:
                for side in ("api", "bare"):
                    results.setdefault((name, side), []).append(run(name, side, args.duration))
        profiles = []
        if args.profile:
            if writes_profile.pyspy() is None:
                raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
            worker = int(children.split()[0])
            for name in args.profile.split(","):
                for side in ("api", "bare"):
                    raw = Path(args.profile_dir or tmp) / f"profile-{name}-{side}.txt"
                    recorder = writes_profile.record(worker, args.duration, raw)
                    rate = run(name, side, args.duration)[0]
                    _, error = recorder.communicate(timeout=60)
                    if recorder.returncode != 0 or not raw.exists():
                        raise SystemExit(f"py-spy failed: {error}")
                    profiles += writes_profile.report(f"{name} {side}", raw, rate)
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(tmp, ignore_errors=True)
        connections.close_all()
        if not args.keep:
            company_remove(SLUG)

    def median(name, side, field):
        return statistics.median(r[field] for r in results[(name, side)])

    print(
        "Write-path benchmark — gunicorn, "
        f"{os.environ['GUNICORN_WORKERS']} sync worker(s) (deploy/gunicorn.conf.py), production"
        f" settings; wrk {THREADS} threads x {args.connections} connections, {args.duration} s"
        f" x {args.rounds} round(s) (medians); PostgreSQL at"
        f" {connection.settings_dict['HOST'] or 'localhost'};"
        f" {'Redis at ' + os.environ['REDIS_URL'] if os.environ.get('REDIS_URL') else 'no Redis'}"
        f"{'; an Idempotency-Key per write' if args.idempotency else ''}"
    )
    print(
        f"  {'endpoint':<9} {'real/s':>7} {'bare/s':>7} {'ratio':>6}  {'target':<12}"
        f" {'real p50/p99 ms':>16} {'bare p50/p99 ms':>16}  statements real/bare"
    )
    for name in only:
        real, bare = median(name, "api", 0), median(name, "bare", 0)
        ratio = real / bare
        target = TARGETS[name]
        verdict = f">= {target}x {'MET' if ratio >= target else 'MISSED'}" if target else "(none)"
        statements = found[name]
        print(
            f"  {name:<9} {real:7.0f} {bare:7.0f} {ratio:5.2f}x  {verdict:<12}"
            f" {median(name, 'api', 1):7.1f}/{median(name, 'api', 2):<8.1f}"
            f" {median(name, 'bare', 1):7.1f}/{median(name, 'bare', 2):<8.1f}"
            f"  {len(statements[0])}/{len(statements[1])}"
        )
    if "adjust" in only and "barcode" in only:
        print(
            f"  adjust / barcode GET (the issue's 183 vs 798/s):"
            f" {median('adjust', 'api', 0) / median('barcode', 'api', 0):.2f}x"
        )
    if args.rounds > 1:
        for (name, side), values in results.items():
            print(f"    {name} {side}: " + ", ".join(f"{v[0]:.0f}" for v in values))
    if profiles:
        print("Where the worker's time goes (py-spy, wall clock of the busy worker):")
        print("\n".join(profiles))


if __name__ == "__main__":
    main()
