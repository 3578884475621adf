"""Many companies on one PostgreSQL: what each company costs as their number grows.

In a database of its own (`--database`, default `mipos_scale`, on the server of DATABASE_URL or
the embedded one; dropped and made again unless `--reuse`), it:

1. creates companies up to `--companies` (1,000; `--companies 10000` for the long run) one after
   the other, as a burst of sign-ups (`tenant_create`, the service the API calls; each company
   then gets one product with a barcode), and prints the creation time per company (median, p95,
   max) over the companies numbered 1-10, 91-100, 991-1,000 (…); the baseline, measured in the
   same run at the end: a schema made as django-tenants made it (`clone_schema`, then
   `migrate_schemas --fake`: what creation did before) for `--baseline` companies;
2. times `manage.py migrate` with nothing pending (what `make run` does on every start: the
   companies behind the template only) and, with `--walk`, django-tenants' walk of every schema
   (`migrate_schemas --executor multiprocessing`);
3. applies a new migration (an index on one table, written to apps/catalog/migrations for the run
   and removed afterwards) to every company (`migrate --executor multiprocessing`);
4. prints the disk per company (database size and catalogue size over the number of companies);
5. serves the API with gunicorn (1 sync worker, production settings): login and barcode lookup
   latency for random companies at 10 companies and at the end (after a first request for every
   company, whose latency is printed too); the worker's and its PostgreSQL backend's memory after
   requests for every company, and for every company again (bounded caches: the second pass must
   not grow them).

    make bench-tenants                                  # or:
    .venv/bin/python bench/tenants_scale.py [--companies 1000] [--baseline 3] [--walk] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--companies", type=int, default=1000)
parser.add_argument("--database", default="mipos_scale")
parser.add_argument("--reuse", action="store_true", help="keep the companies already there")
parser.add_argument("--baseline", type=int, default=3, help="clone_schema companies at the end")
parser.add_argument("--walk", action="store_true", help="also time migrate_schemas' full walk")
parser.add_argument(
    "--no-new-migration", action="store_true", help="skip applying a new migration to every schema"
)
parser.add_argument("--requests", type=int, default=200, help="barcode lookups per latency run")
parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
args = parser.parse_args()

from mipos.database import database_url  # noqa: E402

server_url = database_url(ROOT)  # DATABASE_URL, or the embedded server (started)
admin_url = urlunparse(urlparse(server_url)._replace(path="/postgres"))
scale_url = urlunparse(urlparse(server_url)._replace(path=f"/{args.database}"))

import psycopg  # noqa: E402

if not args.reuse:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')

from bench.common import percentile, use_production_settings  # noqa: E402

use_production_settings("tenants-scale", DATABASE_URL=scale_url, DB_POOL_MAX_SIZE="0")
ENV = {**os.environ}


def manage(*arguments: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


first_migrate = manage("migrate", "--noinput", "-v", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.clone import CloneSchema  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.catalog.services.products import product_create  # noqa: E402
from apps.tenants.models import Tenant  # noqa: E402
from apps.tenants.schema_template import schema_create_from_template  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import free_port, start_server, stop_server  # noqa: E402

PASSWORD = "Scale-pass-2026!"


def sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def companies_count() -> int:
    return Tenant.objects.filter(is_template=False).count()


def company_add(number: int) -> float:
    slug = f"scale-{number:05d}-{uuid.uuid4().hex[:4]}"
    started = time.perf_counter()
    created = tenant_create(
        name=f"Scale {number}",
        slug=slug,
        owner_email=f"owner@{slug}.scale",
        owner_password=PASSWORD,
        owner_name="Owner",
    )
    seconds = time.perf_counter() - started
    with tenant_context(created.tenant):
        product_create(
            actor=created.owner,
            name="Scale coffee",
            sku="SCALE-1",
            barcode="2000000000015",
            status="ACTIVE",
            sell_price=Decimal("2.50"),
        )
    connection.set_schema_to_public()
    return seconds


def summary(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:7.1f} ms   p95 "
        f"{percentile(samples, 0.95) * 1000:7.1f} ms   max {max(samples) * 1000:7.1f} ms"
    )


def sizes() -> tuple[int, int]:
    """(database size, catalogue size) in bytes."""
    (row,) = sql(
        "SELECT pg_database_size(current_database()), "
        "(SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog')"
    )
    return int(row[0]), int(row[1])


# --- the server ---------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """The memory only this process holds (private pages: not the shared buffers a PostgreSQL
    backend maps, nor the pages a gunicorn worker shares with its master)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name] = int(value)
    return fields["Private_Clean:"] + fields["Private_Dirty:"]


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def backend_pids() -> list[int]:
    rows = sql(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    return [pid for (pid,) in rows]


def request(port: int, path: str, token: str | None = None, body: dict | None = None) -> float:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    started = time.perf_counter()
    with urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers),
        timeout=30,
    ) as response:
        response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started


def serving(label: str, owners: list[User], tokens: dict) -> dict:
    """Latency of login and barcode lookup for random companies, and of each company's first
    request; memory after a request for every company, and after a second one."""
    port = free_port()
    os.environ.update({"GUNICORN_WORKERS": "1", "GUNICORN_ACCESS_LOG": ""})
    log = Path(f"/tmp/tenants-scale-{port}.log")
    server = start_server("gunicorn", port, "public", log)
    barcode = "/api/v1/products/lookup/barcode/2000000000015"
    try:
        worker = worker_pid(server.pid)
        # every company once: the first request of a company on this worker (its schema's
        # prepared statement, PostgreSQL's catalog caches for its tables)
        first = [request(port, barcode, tokens[owner.pk]) for owner in owners]
        memory = {f"after all {len(owners)}": (rss_kib(worker), _backend_rss())}
        lookups = [
            request(port, barcode, tokens[random.choice(owners).pk]) for _ in range(args.requests)
        ]
        logins = [
            request(port, "/api/auth/login", body={"email": o.email, "password": PASSWORD})
            for o in random.sample(owners, min(20, len(owners)))
        ]
        for owner in owners:
            request(port, barcode, tokens[owner.pk])
        memory[f"after all {len(owners)} again"] = (rss_kib(worker), _backend_rss())
    finally:
        stop_server(server)
    print(f"\n[{label}] {len(owners)} companies, 1 gunicorn worker")
    print(f"  login (random company)     {summary(logins)}")
    print(f"  barcode (random company)   {summary(lookups)}")
    print(f"  barcode, a company's first {summary(first)}")
    for what, (worker_kib, backend_kib) in memory.items():
        print(
            f"  memory {what:<22} worker {worker_kib / 1024:6.1f} MiB   "
            f"its PostgreSQL backend {backend_kib / 1024:6.1f} MiB (private)"
        )
    return {"logins": logins, "lookups": lookups, "first": first, "memory": memory}


def _backend_rss() -> int:
    pids = backend_pids()
    return max((rss_kib(pid) for pid in pids), default=0)


def owners_and_tokens() -> tuple[list[User], dict]:
    owners = list(
        User.objects.filter(role="ADMIN", tenant__is_template=False)
        .select_related("tenant")
        .order_by("email")
    )
    return owners, {o.pk: token_pair_issue(user=o).access for o in owners}


# --- the run ------------------------------------------------------------------------------------

print(f"database {args.database}: first migrate {first_migrate:.1f} s")
marks = sorted({m for m in (10, 100, 1000, 10000) if m <= args.companies} | {args.companies})
creation: dict[int, list[float]] = {}
all_times: list[float] = []
start_count = companies_count()
size_before = sizes()
results: dict = {}
started = time.perf_counter()
for number in range(start_count + 1, args.companies + 1):
    all_times.append(company_add(number))
    if number == 10:
        owners, tokens = owners_and_tokens()
        results["serving at 10"] = serving("at 10", owners, tokens)
    if number in marks or number % 100 == 0:
        window = all_times[-10:]
        creation[number] = window
        print(
            f"companies {number:6d}: creation, the last 10: {summary(window)}   "
            f"({time.perf_counter() - started:.0f} s so far)",
            flush=True,
        )
count = companies_count()
size_after = sizes()
print("\nCompany creation (tenant_create: schema from the template's script, owner, settings)")
for mark in marks:
    if mark in creation:
        print(f"  companies {mark - 9:6d}-{mark:<6d} {summary(creation[mark])}")
if all_times:
    print(f"  all {len(all_times)}                {summary(all_times)}")

print("\nmigrate with nothing pending (what `make run` does on every start)")
noop = [manage("migrate", "--noinput", "-v", "0") for _ in range(3)]
print(f"  {count} companies: {statistics.median(noop):.1f} s (median of 3: {noop})")
if args.walk:
    walk = manage("migrate_schemas", "--noinput", "-v", "0", "--executor", "multiprocessing")
    print(f"  migrate_schemas' walk of every schema (multiprocessing, 2 processes): {walk:.1f} s")

if not args.no_new_migration:
    PROBE = ROOT / "apps" / "catalog" / "migrations" / "9999_bench_scale_probe.py"
    latest = sorted(p.stem for p in PROBE.parent.glob("0*.py") if p.stem[:4].isdigit())[-1]
    PROBE.write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('catalog', '{latest}')]\n"
        "    operations = [migrations.RunSQL(\n"
        "        'CREATE INDEX bench_scale_probe ON catalog_brand (created_at)',\n"
        "        'DROP INDEX bench_scale_probe')]\n"
    )
    try:
        apply_new = manage("migrate", "--noinput", "-v", "0", "--executor", "multiprocessing")
    finally:
        PROBE.unlink()
    (schemas_with_probe,) = sql(
        "SELECT count(*) FROM pg_class WHERE relname = 'bench_scale_probe' AND relkind = 'i'"
    )[0]
    print(
        f"\nA new migration (one index) applied to every schema (migrate --executor multiprocessing)"
        f": {apply_new:.1f} s; the index is in {schemas_with_probe} schemas (companies + template)"
    )
    for (schema,) in sql(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'bench_scale_probe'"
    ):
        sql(
            f'DROP INDEX "{schema}".bench_scale_probe; DELETE FROM "{schema}".django_migrations '
            "WHERE name = '9999_bench_scale_probe'"
        )

added = count - start_count
if added:
    print(
        f"\nDisk: database {size_after[0] / 2**20:.0f} MiB for {count} companies; per company "
        f"{(size_after[0] - size_before[0]) / added / 2**20:.2f} MiB, of which the catalogue "
        f"(pg_catalog) {(size_after[1] - size_before[1]) / added / 2**20:.2f} MiB"
    )

owners, tokens = owners_and_tokens()
results["serving at end"] = serving(f"at {count}", owners, tokens)

if args.baseline:
    clone = CloneSchema()
    times = []
    for n in range(args.baseline):
        schema = f"t_clone_baseline_{n}"
        sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        began = time.perf_counter()
        clone.clone_schema(settings.TENANT_BASE_SCHEMA, schema, "DATA")
        call_command(
            "migrate_schemas", tenant=True, fake=True, schema_name=schema, interactive=False,
            verbosity=0,
        )  # fmt: skip
        times.append(time.perf_counter() - began)
        connection.set_schema_to_public()
        sql(f'DROP SCHEMA "{schema}" CASCADE')
    scripted = []
    for n in range(args.baseline):
        schema = f"t_script_baseline_{n}"
        began = time.perf_counter()
        schema_create_from_template(schema)
        scripted.append(time.perf_counter() - began)
        sql(f'DROP SCHEMA "{schema}" CASCADE')
    print(
        f"\nSchema alone at {count} companies: from the template's script {summary(scripted)}; "
        f"as django-tenants made it {summary(times)}: "
        f"{statistics.median(scripted) / statistics.median(times):.3f}x"
    )
    ours = statistics.median(all_times[-10:]) if all_times else float("nan")
    print(
        f"Baseline at {count} companies: the schema as django-tenants made it (clone_schema, "
        f"then migrate_schemas --fake) {summary(times)}; tenant_create now (schema, owner, "
        f"settings) {ours * 1000:.0f} ms median = {ours / statistics.median(times):.3f}x"
    )

if not args.keep:
    connection.close()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
