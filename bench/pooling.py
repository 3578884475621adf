"""Pooling benchmark: what DB_TRANSACTION_POOLING costs per request, and what PgBouncer adds.

One process serves the API through Django's test client (no HTTP server: only the database path
differs between configurations), with the production settings, in four configurations whose
rounds are interleaved (medians of per-round medians, so machine load moves them together):

- direct:               persistent connection to PostgreSQL, prepared statements, the search path
                        set once per schema switch (the default);
- direct, unprepared:   the same with prepared statements off (the setting's first half);
- direct + setting:     the transaction-pooling backend straight to PostgreSQL (the setting's own
                        cost: a `SET LOCAL search_path` with every transaction, nothing prepared);
- direct, per request:  a new PostgreSQL session per request (DB_CONN_MAX_AGE=0);
- bouncer session:      PgBouncer in session mode in front, the default backend;
- bouncer session, per req: the same, a new PgBouncer client connection per request (what
                        lets session mode share fewer server connections between workers);
- bouncer transaction:  PgBouncer in transaction mode in front, with the setting.

Requests: `GET /api/v1/products/lookup/barcode/<code>` as a CASHIER and `GET /api/v1/products
?limit=20` as an ADMIN. Printed per configuration: median µs per request, its difference from
direct, and the statements a request sends (Django's count; `+n SET` when the backend prefixed
n of them with the search path).

It creates its own company with the 202-product demo catalogue in the development database
(DATABASE_URL, or the embedded PostgreSQL under .data/) and removes it after. Needs Debian's
`pgbouncer`.

    .venv/bin/python bench/pooling.py [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import company_remove, demo_company_seed, use_production_settings  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--requests", type=int, default=200, help="requests per URL per round")
parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
args = parser.parse_args()
use_production_settings("pooling")

import django  # noqa: E402

django.setup()

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections  # noqa: E402
from django.db.utils import load_backend  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from apps.core import prepared  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.pgbouncer import pgbouncer, pgbouncer_binary  # noqa: E402
from mipos.transaction_pooling import base as pooling  # noqa: E402

SLUG = "bench-pooling"
PASSWORD = "Bench-pass-2026!"
DEFAULT, POOLING = "django_tenants.postgresql_backend", "mipos.transaction_pooling"


def seed() -> tuple[str, str, str]:
    _, owner, cashier, rows = demo_company_seed(slug=SLUG, name="Bench pooling", password=PASSWORD)
    barcode = next(row["barcode"] for row in rows if row.get("barcode"))
    admin_token = token_pair_issue(user=owner).access
    return admin_token, token_pair_issue(user=cashier).access, barcode


DIRECT = dict(connection.settings_dict)  # before any configuration replaces the connection


def wrapper(engine: str, port: int | None = None, *, per_request: bool = False):
    """A connection of the bench's database (through PgBouncer on `port`); `per_request`: a new
    session for every request (DB_CONN_MAX_AGE=0), else persistent as in production."""
    settings_dict = {**DIRECT, "ENGINE": engine}
    if per_request:
        settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["OPTIONS"] = dict(settings_dict["OPTIONS"])
    if port is not None:
        settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    if engine == POOLING:
        settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    return load_backend(engine).DatabaseWrapper(settings_dict, alias=DEFAULT_DB_ALIAS)


prefixed = 0
_path_sent = pooling.PathCursor._path_sent


def counted(self, setting):  # counts the statements the backend prefixed with the path
    global prefixed
    prefixed += 1
    return _path_sent(self, setting)


pooling.PathCursor._path_sent = counted


def main() -> None:
    binary = pgbouncer_binary()
    if binary is None:
        sys.exit("needs pgbouncer (Debian: apt-get install pgbouncer)")
    company_remove(SLUG)
    admin_token, cashier_token, barcode = seed()
    urls = {
        "barcode": (f"/api/v1/products/lookup/barcode/{barcode}", cashier_token),
        "list 20": ("/api/v1/products?limit=20", admin_token),
    }
    try:
        with ExitStack() as stack:
            server = DIRECT
            session = stack.enter_context(
                pgbouncer(binary, server, pool_mode="session", pool_size=4)
            )
            transaction_port = stack.enter_context(
                pgbouncer(binary, server, pool_mode="transaction", pool_size=4)
            )
            configurations = {
                "direct": (wrapper(DEFAULT), True),
                "direct, unprepared": (wrapper(DEFAULT), False),
                "direct + setting": (wrapper(POOLING), False),
                "direct, per request": (wrapper(DEFAULT, per_request=True), True),
                "bouncer session": (wrapper(DEFAULT, session), True),
                "bouncer session, per req": (wrapper(DEFAULT, session, per_request=True), True),
                "bouncer transaction": (wrapper(POOLING, transaction_port), False),
            }
            measure(configurations, urls)
    finally:
        connections[DEFAULT_DB_ALIAS] = wrapper(DEFAULT)
        prepared.PREPARED = True
        company_remove(SLUG)


def measure(configurations: dict, urls: dict) -> None:
    global prefixed
    clients = {}
    for name, (_path, token) in urls.items():
        clients[name] = APIClient()
        clients[name].credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    medians = {(c, u): [] for c in configurations for u in urls}
    statements = {}
    for round_number in range(args.rounds + 1):  # round 0 warms up (connections, statements)
        for config, (db, prepare) in configurations.items():
            connections[DEFAULT_DB_ALIAS] = db
            prepared.PREPARED = prepare
            for url, (path, _token) in urls.items():
                client = clients[url]
                samples = []
                for _ in range(args.requests):
                    close_old_connections()  # what request_started does (the health check)
                    start = time.perf_counter_ns()
                    response = client.get(path)
                    samples.append((time.perf_counter_ns() - start) / 1000)
                    assert response.status_code == 200, (config, response.content[:300])
                if round_number:
                    medians[config, url].append(statistics.median(samples))
                else:
                    close_old_connections()
                    prefixed = 0
                    with CaptureQueriesContext(db) as queries:
                        client.get(path)
                    statements[config, url] = (len(queries.captured_queries), prefixed)
    for db, _prepare in configurations.values():
        db.close()
    header = f"{'configuration':<26}" + "".join(f"{url:>30}" for url in urls)
    print(header)
    for config in configurations:
        cells = []
        for url in urls:
            value = statistics.median(medians[config, url])
            base = statistics.median(medians["direct", url])
            count, sets = statements[config, url]
            sent = f"{count} stmt" + (f" +{sets} SET" if sets else "")
            cells.append(f"{value:7.0f} µs {value - base:+6.0f} {sent:>12}")
        print(f"{config:<26}" + "".join(f"{cell:>30}" for cell in cells))


if __name__ == "__main__":
    main()
