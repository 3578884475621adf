"""DB_TRANSACTION_POOLING's backend (mipos.transaction_pooling) on a direct connection: the SQL
it actually sends carries the search path with the statement that starts each transaction, the
server session is left on the default path, and nothing is prepared. The same behaviour through
PgBouncer in transaction mode, with two companies sharing server connections, is in
test_pgbouncer.py (slow tier)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend

from apps.core import prepared
from apps.core.db import qualified_table
from conftest import BARCODES

ENGINE = "mipos.transaction_pooling"
SENT = "SELECT current_query()"  # the text as the client sent it, all its statements


def pooled_wrapper(**overrides: Any):
    """A new connection of the test database through the transaction-pooling backend."""
    settings_dict = {**connection.settings_dict, "ENGINE": ENGINE, **overrides}
    settings_dict["OPTIONS"] = dict(settings_dict["OPTIONS"])
    return load_backend(ENGINE).DatabaseWrapper(settings_dict, alias=DEFAULT_DB_ALIAS)


def in_thread(work: Callable[[], Any], **overrides: Any) -> Any:
    """`work()` in a thread of its own whose default connection is a `pooled_wrapper` (the
    app's code reads `connection`), so the test's own connection is untouched."""

    def run() -> Any:
        connections[DEFAULT_DB_ALIAS] = db = pooled_wrapper(**overrides)
        try:
            return work()
        finally:
            db.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def _path(db) -> str:
    return f'SET LOCAL search_path = "{db.schema_name}","public"'


def _sent(db) -> str:
    with db.cursor() as cursor:
        cursor.execute(SENT)
        return cursor.fetchone()[0]


def _session_path(db) -> str:
    """The server session's own search_path, read without PathCursor (no prefix)."""
    result = db.connection.pgconn.exec_(b"SHOW search_path")
    return result.get_value(0, 0).decode()


def _barcodes(db) -> list[str]:
    with db.cursor() as cursor:
        cursor.execute("SELECT barcode FROM catalog_product WHERE sku = %s", ["P-100"])
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def pooled(worlds, django_db_blocker) -> Iterator[Any]:
    with django_db_blocker.unblock():
        db = pooled_wrapper()
        yield db
        db.close()


def test_every_autocommit_statement_carries_its_path_and_leaves_the_session_on_the_default(
    pooled, worlds
):
    a, b = worlds["a"].tenant, worlds["b"].tenant
    pooled.set_tenant(a)
    assert _sent(pooled) == f"{_path(pooled)}; {SENT}"
    assert _sent(pooled) == f"{_path(pooled)}; {SENT}"  # again: autocommit trusts nothing
    assert _session_path(pooled) == '"$user", public'  # SET LOCAL ended with the statement
    for tenant, barcode in ((a, BARCODES["acme"][0]), (b, BARCODES["bravo"][0])) * 2:
        pooled.set_tenant(tenant)
        assert _barcodes(pooled) == [barcode]
    pooled.set_schema_to_public()
    assert _sent(pooled) == f'SET LOCAL search_path = "public"; {SENT}'


def test_a_transaction_sends_its_path_once_again_after_a_switch_or_a_savepoint_rollback(
    pooled, worlds
):
    a, b = worlds["a"].tenant, worlds["b"].tenant
    pooled.set_tenant(a)
    pooled.set_autocommit(False)
    try:
        assert _sent(pooled) == f"{_path(pooled)}; {SENT}"
        assert _sent(pooled) == SENT  # the path holds until the transaction ends
        with pooled.cursor() as cursor:  # an UPDATE's row count is its own, not the SET's
            cursor.execute("UPDATE catalog_product SET name = name WHERE sku = %s", ["P-100"])
            assert cursor.rowcount == 1
        pooled.set_tenant(b)
        assert _sent(pooled) == f"{_path(pooled)}; {SENT}"
        assert _barcodes(pooled) == [BARCODES["bravo"][0]]
        savepoint = pooled.savepoint()
        pooled.set_tenant(a)
        assert _barcodes(pooled) == [BARCODES["acme"][0]]  # SET LOCAL after the savepoint
        # the rollback undoes A's SET LOCAL: the server is back on B's path, so A's is sent again
        pooled.savepoint_rollback(savepoint)
        assert _sent(pooled) == f"{_path(pooled)}; {SENT}"
        assert _barcodes(pooled) == [BARCODES["acme"][0]]
    finally:
        pooled.rollback()
        pooled.set_autocommit(True)
    assert _session_path(pooled) == '"$user", public'


def test_executemany_runs_in_its_company_schema(pooled, worlds):
    pooled.set_tenant(worlds["a"].tenant)
    with pooled.cursor() as cursor:
        cursor.executemany(
            "UPDATE catalog_product SET name = name WHERE sku = %s", [["P-100"], ["none"]]
        )
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
    assert _session_path(pooled) == '"$user", public'


def test_the_prepared_layer_runs_plain_sql_and_prepares_nothing(
    worlds, django_db_blocker, monkeypatch
):
    from apps.catalog.selectors import barcode_lookup
    from apps.users.selectors import _auth_user_row

    monkeypatch.setattr(prepared, "PREPARED", False)
    world_a, world_b = worlds["a"], worlds["b"]

    def work() -> tuple:
        found = []
        for world, slug in ((world_a, "acme"), (world_b, "bravo"), (world_a, "acme")):
            connection.set_tenant(world.tenant)
            found.append(barcode_lookup(code=BARCODES[slug][0], tenant=world.tenant)["sku"])
            found.append(barcode_lookup(code=BARCODES[slug][1], tenant=world.tenant)["sku"])
            with connection.cursor() as cursor:
                table = qualified_table("catalog_product")
                prepared.execute_prepared(
                    cursor, f"SELECT barcode FROM {table} WHERE sku = %s", ["P-100"]
                )
                found.append(cursor.fetchone()[0])
            found.append(_auth_user_row(world.cashier.pk)[0] == world.cashier.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            found.append(cursor.fetchone()[0])
        return tuple(found)

    acme = ("P-100", "P-100-M", BARCODES["acme"][0], True)
    bravo = ("P-100", "P-100-M", BARCODES["bravo"][0], True)
    with django_db_blocker.unblock():
        assert in_thread(work) == (*acme, *bravo, *acme, 0)


def test_the_setting_selects_the_backend_and_turns_prepared_statements_off():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from apps.core import prepared; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['DISABLE_SERVER_SIDE_CURSORS'], prepared.PREPARED)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "mipos.settings.test", "DB_TRANSACTION_POOLING": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.split() == [ENGINE, "True", "False"]
    assert prepared.PREPARED is True  # this process: the default, session state kept


def test_a_psycopg_pool_connection_follows_the_django_connection_that_takes_it(
    worlds, django_db_blocker
):
    """DB_POOL_MAX_SIZE with the setting: one pooled session, taken in turn by two Django
    connections on different companies, sends each one's path."""
    pool = {"min_size": 1, "max_size": 1, "timeout": 5}
    with django_db_blocker.unblock():
        a = pooled_wrapper(OPTIONS={**connection.settings_dict["OPTIONS"], "pool": pool})
        a.alias = "transaction_pooling_test"  # a pool of its own (Django keys pools by alias)
        b = pooled_wrapper(OPTIONS={**connection.settings_dict["OPTIONS"], "pool": pool})
        b.alias = a.alias
        try:
            a.set_tenant(worlds["a"].tenant)
            b.set_tenant(worlds["b"].tenant)
            seen = []
            for db in (a, b, a):
                seen.append((_barcodes(db), db.connection.info.backend_pid))
                db.close()  # back to the pool
        finally:
            a.close_pool()
    assert [barcodes for barcodes, _pid in seen] == [
        [BARCODES["acme"][0]],
        [BARCODES["bravo"][0]],
        [BARCODES["acme"][0]],
    ]
    assert len({pid for _barcodes, pid in seen}) == 1  # one server session for all three
