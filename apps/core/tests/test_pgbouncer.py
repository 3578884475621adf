"""PgBouncer (Debian's `pgbouncer`) in front of the test database, started by the test with its
own ini on a free port and fewer server connections than clients: two companies' requests
alternate through it and none reads the other's rows.

- session mode (the default setup: persistent connections, prepared statements): each client
  connection gets a server connection of its own until it disconnects; the server session is
  reset (DISCARD ALL) before the next client has it, and prepared statements keep working;
- transaction mode, DB_TRANSACTION_POOLING's backend (mipos.transaction_pooling): the search
  path travels with every transaction, nothing is prepared;
- transaction mode without it: a company reads the other company's rows and a SQL-level
  PREPARE collides with another client's — why the setting exists.

In CI (`CI` set) a missing pgbouncer fails instead of skipping (.ci/run installs it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connection, connections, transaction
from django.db.utils import load_backend
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.catalog.models import Product
from apps.core import prepared
from apps.users.tokens import token_pair_issue
from bench.common import free_port
from bench.pgbouncer import pgbouncer as start_pgbouncer
from bench.pgbouncer import pgbouncer_binary
from conftest import BARCODES

pytestmark = pytest.mark.slow  # starts its own PgBouncer processes

CLIENTS = 6  # client threads, three per company
SERVER_CONNECTIONS = 2  # default_pool_size: fewer than the clients
ROUNDS = 8
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def binary() -> str:
    found = pgbouncer_binary()
    if found is None:
        message = "pgbouncer is not installed (Debian: apt-get install pgbouncer)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def pgbouncer(binary: str, *, pool_mode: str, pool_size: int):
    """A PgBouncer in front of the test database's server (bench/pgbouncer.py)."""
    return start_pgbouncer(
        binary, connection.settings_dict, pool_mode=pool_mode, pool_size=pool_size
    )


def bounced(port: int, engine: str = "django_tenants.postgresql_backend"):
    """A new Django connection to the test database through PgBouncer on `port`."""
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": engine,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    settings_dict["OPTIONS"] = dict(settings_dict["OPTIONS"])
    if engine == "mipos.transaction_pooling":
        settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True  # as the setting does
    return load_backend(engine).DatabaseWrapper(settings_dict, alias=DEFAULT_DB_ALIAS)


def _barcodes(db) -> list[str]:
    with db.cursor() as cursor:
        cursor.execute("SELECT barcode FROM catalog_product WHERE sku = %s", ["P-100"])
        return [row[0] for row in cursor.fetchall()]


def _access_token(user) -> str:
    with transaction.atomic():  # the refresh token's row is not kept; the access token works
        access = token_pair_issue(user=user).access
        transaction.set_rollback(True)
    return access


class ServerConnections:
    """The most server connections the test database had at once (PgBouncer's, sampled)."""

    def __init__(self) -> None:
        server = connection.settings_dict
        self._conninfo = psycopg.conninfo.make_conninfo(
            host=server["HOST"] or None,
            port=server["PORT"] or None,
            dbname=server["NAME"],
            user=server["USER"] or None,
            password=server["PASSWORD"] or None,
        )
        own = connection.connection
        self._excluded = own.info.backend_pid if own is not None else 0
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as sampler:
            while not self._stop.is_set():
                (count,) = sampler.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    " AND pid <> %s",
                    [self._excluded],
                ).fetchone()
                self.most = max(self.most, count)
                time.sleep(0.005)

    def __enter__(self) -> ServerConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _side_by_side(client) -> int:
    """Runs `client(n)` for every client number, each in a thread of its own; the most server
    connections the database had meanwhile."""
    with ServerConnections() as servers:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return servers.most


def _alternate(port: int, engine: str, worlds, *, reconnect: bool) -> tuple[list, int]:
    """CLIENTS threads, the two companies alternating, each round started together (a
    barrier): a barcode scan of its own product and of the other company's (both through the
    API: authentication, routing, the prepared layer), and an ORM read of its products. Returns
    each client's rounds and the most server connections seen. `reconnect`: a client gives its
    connection back after each round (session mode pins a server connection to it)."""
    tokens = {slug: _access_token(worlds[slug].cashier) for slug in ("a", "b")}
    barrier = threading.Barrier(CLIENTS)
    results: list[Any] = [None] * CLIENTS

    def client(number: int) -> None:
        own = "a" if number % 2 == 0 else "b"
        own_slug, other_slug = ("acme", "bravo") if own == "a" else ("bravo", "acme")
        connections[DEFAULT_DB_ALIAS] = db = bounced(port, engine)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[own]}")
        rounds = []
        try:
            for _ in range(ROUNDS):
                barrier.wait(timeout=60)
                mine = api.get(f"/api/v1/products/lookup/barcode/{BARCODES[own_slug][0]}")
                theirs = api.get(f"/api/v1/products/lookup/barcode/{BARCODES[other_slug][0]}")
                with tenant_context(worlds[own].tenant):
                    orm = list(Product.objects.values_list("barcode", flat=True))
                with db.cursor() as cursor:  # what this session has prepared
                    cursor.execute(
                        "SELECT count(*) FROM pg_prepared_statements"
                        " WHERE name LIKE 'mipos_barcode_product%%'"
                    )
                    statements = cursor.fetchone()[0]
                rounds.append(
                    (
                        mine.status_code,
                        mine.json()["data"]["productId"],
                        theirs.status_code,
                        orm,
                        statements,
                    )
                )
                if reconnect:
                    db.close()
        except BaseException as error:  # reported by the assertion on the results
            barrier.abort()
            rounds.append(repr(error))
        finally:
            db.close()
            results[number] = rounds

    return results, _side_by_side(client)


def _expected(worlds, *, statements: int) -> list:
    rounds = {
        own: [(200, str(worlds[own].product.pk), 404, [BARCODES[slug][0]], statements)] * ROUNDS
        for own, slug in (("a", "acme"), ("b", "bravo"))
    }
    return [rounds["a" if number % 2 == 0 else "b"] for number in range(CLIENTS)]


def test_session_mode_keeps_companies_apart_and_prepared_statements_working(
    binary, worlds, django_db_blocker
):
    with (
        django_db_blocker.unblock(),
        pgbouncer(binary, pool_mode="session", pool_size=SERVER_CONNECTIONS) as port,
    ):
        results, most = _alternate(
            port, "django_tenants.postgresql_backend", worlds, reconnect=True
        )
    # each round's session prepared its barcode statement once (a fresh one: DISCARD ALL)
    assert results == _expected(worlds, statements=1)
    assert 1 <= most <= SERVER_CONNECTIONS


def test_transaction_mode_with_the_setting_keeps_companies_apart(
    binary, worlds, django_db_blocker, monkeypatch
):
    monkeypatch.setattr(prepared, "PREPARED", False)  # DB_TRANSACTION_POOLING's other half
    with (
        django_db_blocker.unblock(),
        pgbouncer(binary, pool_mode="transaction", pool_size=SERVER_CONNECTIONS) as port,
    ):
        results, most = _alternate(port, "mipos.transaction_pooling", worlds, reconnect=False)
    assert results == _expected(worlds, statements=0)
    assert 1 <= most <= SERVER_CONNECTIONS


def _two_clients(port: int, engine: str, work: Callable[[Any, Any], Any]) -> Any:
    a, b = bounced(port, engine), bounced(port, engine)
    try:
        return work(a, b)
    finally:
        a.close()
        b.close()


def test_transaction_mode_without_the_setting_reads_the_other_companys_rows(
    binary, worlds, django_db_blocker
):
    """One server connection, two clients: B's `SET search_path` stays on it, and A, which set
    its path once (TENANT_LIMIT_SET_CALLS), reads B's product; B's PREPARE meets A's."""
    acme, bravo = BARCODES["acme"][0], BARCODES["bravo"][0]

    def steps(a, b) -> list:
        a.set_tenant(worlds["a"].tenant)
        b.set_tenant(worlds["b"].tenant)
        seen = [_barcodes(a), _barcodes(b), _barcodes(a)]
        with a.cursor() as cursor:
            cursor.execute("PREPARE mipos_pgbouncer_demo AS SELECT 1")
        with pytest.raises(ProgrammingError, match="already exists"), b.cursor() as cursor:
            cursor.execute("PREPARE mipos_pgbouncer_demo AS SELECT 1")
        return seen

    def with_setting(a, b) -> list:
        a.set_tenant(worlds["a"].tenant)
        b.set_tenant(worlds["b"].tenant)
        return [_barcodes(a), _barcodes(b), _barcodes(a)]

    with (
        django_db_blocker.unblock(),
        pgbouncer(binary, pool_mode="transaction", pool_size=1) as port,
    ):
        leaked = _two_clients(port, "django_tenants.postgresql_backend", steps)
        kept = _two_clients(port, "mipos.transaction_pooling", with_setting)
    assert leaked == [[acme], [bravo], [bravo]]  # A's third read: company B's product
    assert kept == [[acme], [bravo], [acme]]


def test_gunicorn_with_the_setting_serves_both_companies_through_transaction_mode(
    binary, worlds, django_db_blocker, tmp_path
):
    """As documented: DATABASE_URL at PgBouncer in transaction mode and DB_TRANSACTION_POOLING=1,
    gunicorn's sync workers (persistent connections) outnumbering the server connections."""
    workers, server_connections = 3, 2
    with django_db_blocker.unblock():
        tokens = {slug: _access_token(worlds[slug].cashier) for slug in ("a", "b")}
    with (
        django_db_blocker.unblock(),
        pgbouncer(binary, pool_mode="transaction", pool_size=server_connections) as bouncer,
    ):
        port = free_port()
        name = connection.settings_dict["NAME"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mipos.settings.test",
            "DATABASE_URL": f"postgresql://{connection.settings_dict['USER'] or 'postgres'}"
            f"@127.0.0.1:{bouncer}/{name}",
            "DB_TRANSACTION_POOLING": "1",
            "DB_CONN_MAX_AGE": "600",  # production's persistent connections
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_ACCESS_LOG": "",
        }
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        command += ["--bind", f"127.0.0.1:{port}", "mipos.wsgi:application"]
        log = tmp_path / "gunicorn.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=str(ROOT),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                    time.sleep(0.2)

            def get(path: str, token: str) -> tuple[int, str | None]:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        return response.status, json.load(response)["data"]["productId"]
                except urllib.error.HTTPError as error:
                    return error.code, None

            barrier = threading.Barrier(CLIENTS)
            results: list[Any] = [None] * CLIENTS

            def client(number: int) -> None:
                own, slug, other = (
                    ("a", "acme", "bravo") if number % 2 == 0 else ("b", "bravo", "acme")
                )
                rounds = []
                for _ in range(ROUNDS):
                    barrier.wait(timeout=60)
                    rounds.append(
                        (
                            get(
                                f"/api/v1/products/lookup/barcode/{BARCODES[slug][0]}", tokens[own]
                            ),
                            get(
                                f"/api/v1/products/lookup/barcode/{BARCODES[other][0]}", tokens[own]
                            ),
                        )
                    )
                results[number] = rounds

            most = _side_by_side(client)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    expected = {
        own: [((200, str(worlds[own].product.pk)), (404, None))] * ROUNDS for own in ("a", "b")
    }
    assert results == [expected["a" if n % 2 == 0 else "b"] for n in range(CLIENTS)]
    assert 1 <= most <= server_connections < workers
