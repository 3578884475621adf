"""PreparedStatement, the request's leading statement: it carries the tenant's `SET search_path`
in the same round trip and stands in for Django's health check of a persistent connection —
replacing a connection that died between requests, and never hiding a real error.

These run in autocommit (no test transaction), as a request does: on the real connection, with
a second real session ending the first as a server restart would."""

from __future__ import annotations

import re

import pytest
from django.db import DataError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.db import qualified_table
from apps.core.prepared import (
    PreparedStatement,
    SchemaPreparedStatement,
    execute_prepared,
    numbered_placeholders,
)

COMPANY_NAME = PreparedStatement(
    "mipos_test_company_name_v1",
    lambda: 'SELECT t."name" FROM "public"."tenants_tenant" t WHERE t."id" = $1::uuid',
    parameters=1,
)


@pytest.fixture
def session(worlds, django_db_blocker, monkeypatch):
    """The default connection in autocommit, checked like a persistent one at request start,
    with the health checks it runs (`is_usable`) counted."""
    checks: list[bool] = []
    usable = connection.is_usable

    def counted() -> bool:
        checks.append(result := usable())
        return result

    with django_db_blocker.unblock():
        connection.ensure_connection()
        monkeypatch.setattr(connection, "health_check_enabled", True)
        monkeypatch.setattr(connection, "is_usable", counted)
        connection.health_check_done = False  # what a new request does (request_started)
        yield checks
        connection.health_check_done = True
        connection.set_schema_to_public()


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        other.close()


def test_it_sets_the_search_path_in_its_own_round_trip_and_replaces_the_check(session, worlds):
    world = worlds["a"]
    company = str(world.tenant.pk)
    assert COMPANY_NAME.fetchone([company]) == (world.tenant.name,)  # prepared, on public
    connection.health_check_done = False  # the next request
    connection.set_tenant(world.tenant)
    with CaptureQueriesContext(connection) as queries:
        assert COMPANY_NAME.fetchone([company]) == (world.tenant.name,)
        assert _search_path() == f"{world.tenant.schema_name}, public"  # no SET of its own
        assert COMPANY_NAME.fetchone([company]) == (world.tenant.name,)
    path = f'"{world.tenant.schema_name}","public"'
    assert [q["sql"] for q in queries.captured_queries] == [
        f"SET search_path = {path}; EXECUTE mipos_test_company_name_v1('{company}')",
        "SHOW search_path",
        f"EXECUTE mipos_test_company_name_v1('{company}')",
    ]
    assert session == []  # no `SELECT 1` before either request's first statement


def test_a_connection_that_died_between_requests_is_replaced(session, worlds):
    world = worlds["a"]
    connection.set_tenant(world.tenant)
    dead = connection.connection.info.backend_pid
    _terminate(dead)

    assert COMPANY_NAME.fetchone([str(world.tenant.pk)]) == (world.tenant.name,)
    assert connection.connection.info.backend_pid != dead
    assert session == [False]  # the failure was checked: the connection was dead
    assert _search_path() == f"{world.tenant.schema_name}, public"


def test_an_error_on_a_live_connection_is_raised_and_leaves_no_search_path(session, worlds):
    world = worlds["a"]
    connection.set_tenant(world.tenant)
    pid = connection.connection.info.backend_pid
    with pytest.raises(DataError):
        COMPANY_NAME.fetchone(["not-a-uuid"])
    assert session == [True]  # checked once, found alive: the error is the caller's, not retried
    assert connection.connection.info.backend_pid == pid
    assert connection.search_path_set_schemas is None  # the SET rolled back with the statement
    assert _search_path() == f"{world.tenant.schema_name}, public"  # set by this ordinary query


def test_inside_a_transaction_django_runs_its_own_check(session, worlds):
    world = worlds["a"]
    connection.set_tenant(world.tenant)
    with transaction.atomic():
        assert COMPANY_NAME.fetchone([str(world.tenant.pk)]) == (world.tenant.name,)
    assert session == [True]  # Django's `SELECT 1`: a dead connection cannot be replaced here


PRODUCT_ID = SchemaPreparedStatement(
    "mipos_test_product_id_v1",
    lambda schema: (
        f'SELECT p."id" FROM {qualified_table("catalog_product", schema)} p WHERE p."barcode" = $1'
    ),
    parameters=1,
    per_session=1,
)


def _prepared_here() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement FROM pg_prepared_statements"
            " WHERE name LIKE 'mipos\\_test\\_product\\_id\\_v1\\_%' ORDER BY name"
        )
        return cursor.fetchall()


def test_a_schema_statement_reads_only_the_routed_companys_rows(session, worlds):
    """One statement per schema on the same session: a company's scan never runs another
    company's statement, and the same code finds nothing in the other company."""
    a, b = worlds["a"], worlds["b"]
    assert a.product.pk != b.product.pk
    connection.set_tenant(a.tenant)
    assert PRODUCT_ID.fetchone([a.product.barcode]) == (a.product.pk,)
    assert PRODUCT_ID.fetchone([b.product.barcode]) is None
    connection.set_tenant(b.tenant)
    assert PRODUCT_ID.fetchone([b.product.barcode]) == (b.product.pk,)
    assert PRODUCT_ID.fetchone([a.product.barcode]) is None
    connection.set_tenant(a.tenant)
    assert PRODUCT_ID.fetchone([a.product.barcode]) == (a.product.pk,)


def test_a_schema_statement_is_prepared_once_per_schema_and_the_session_stays_bounded(
    session, worlds
):
    a, b = worlds["a"], worlds["b"]
    connection.set_tenant(a.tenant)
    PRODUCT_ID.fetchone([a.product.barcode])
    with CaptureQueriesContext(connection) as queries:
        assert PRODUCT_ID.fetchone([a.product.barcode]) == (a.product.pk,)
    assert len(queries.captured_queries) == 1
    assert re.fullmatch(
        rf"EXECUTE mipos_test_product_id_v1_\d+\('{a.product.barcode}'\)",
        queries.captured_queries[0]["sql"],
    )
    [(first, text)] = _prepared_here()
    assert f'"{a.tenant.schema_name}"."catalog_product"' in text

    # per_session=1: preparing b's statement deallocates a's
    connection.set_tenant(b.tenant)
    with CaptureQueriesContext(connection) as queries:
        assert PRODUCT_ID.fetchone([b.product.barcode]) == (b.product.pk,)
    assert [q["sql"].split(" ")[0] for q in queries.captured_queries] == [
        "DEALLOCATE",
        "PREPARE",
        "SET",  # the pending search path rides with the EXECUTE
    ]
    [(second, text)] = _prepared_here()
    assert second != first and f'"{b.tenant.schema_name}"."catalog_product"' in text


def test_placeholders_are_numbered_in_order():
    assert numbered_placeholders("a = %s AND b = %s OR c = %s") == "a = $1 AND b = $2 OR c = $3"
    assert numbered_placeholders("SELECT 1") == "SELECT 1"


def _text_statements() -> list[str]:
    """The session's prepared texts, as PostgreSQL holds them, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT regexp_replace(statement, '^PREPARE mipos_text_[0-9]+ AS ', '')"
            " FROM pg_prepared_statements WHERE name LIKE 'mipos\\_text\\_%' ORDER BY prepare_time"
        )
        return [row[0] for row in cursor.fetchall()]


BY_BARCODE = (
    'SELECT p."id" FROM "catalog_product" p WHERE p."barcode" = %s AND p."sku" LIKE \'P-%%\''
)
COUNT_BY_SKU = 'SELECT count(*) FROM "catalog_product" WHERE "sku" = %s'


@pytest.fixture
def new_session(session):
    """A PostgreSQL session of its own: nothing prepared on it yet."""
    connection.close()
    connection.ensure_connection()
    return session


def _run(sql: str, params: list, **options):
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params, **options)
        return cursor.fetchall()


def test_a_repeated_text_is_prepared_once_per_company_and_reads_that_companys_rows(
    new_session, worlds
):
    """Keyed by the schema and the text (an unqualified text reads the search path's tables):
    the same text in two companies is two statements, each reading its own company's rows."""
    a, b = worlds["a"], worlds["b"]
    connection.set_tenant(a.tenant)
    assert _run(BY_BARCODE, [a.product.barcode]) == [(a.product.pk,)]
    with CaptureQueriesContext(connection) as queries:
        assert _run(BY_BARCODE, [a.product.barcode]) == [(a.product.pk,)]
        assert _run(BY_BARCODE, [b.product.barcode]) == []
    assert [q["sql"].split(" ")[0] for q in queries.captured_queries] == ["EXECUTE", "EXECUTE"]
    connection.set_tenant(b.tenant)
    assert _run(BY_BARCODE, [b.product.barcode]) == [(b.product.pk,)]
    assert _run(BY_BARCODE, [a.product.barcode]) == []
    # `%%` is the literal percent sign it stands for, `%s` the parameters in order
    assert (
        _text_statements()
        == [
            'SELECT p."id" FROM "catalog_product" p WHERE p."barcode" = $1 AND p."sku" LIKE \'P-%\''
        ]
        * 2
    )


def test_the_session_keeps_only_its_most_recent_texts(new_session, worlds):
    connection.set_tenant(worlds["a"].tenant)
    assert _run(BY_BARCODE, ["no such code"], per_session=1) == []
    with CaptureQueriesContext(connection) as queries:
        assert _run(COUNT_BY_SKU, ["P-100"], per_session=1) == [(1,)]
    assert [q["sql"].split(" ")[0] for q in queries.captured_queries] == [
        "DEALLOCATE",
        "PREPARE",
        "EXECUTE",
    ]
    assert _text_statements() == ['SELECT count(*) FROM "catalog_product" WHERE "sku" = $1']


def test_a_text_the_server_cannot_prepare_runs_unprepared(new_session, worlds):
    connection.set_tenant(worlds["a"].tenant)
    assert _run("SELECT %s + %s", [1, 2]) == [(3,)]  # unknown + unknown: no operator to pick
    with CaptureQueriesContext(connection) as queries:
        assert _run("SELECT %s + %s", [2, 3]) == [(5,)]
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT 2 + 3"]  # not tried again
    assert _text_statements() == []


def test_inside_a_transaction_the_text_runs_unprepared(new_session, worlds):
    a = worlds["a"]
    connection.set_tenant(a.tenant)
    with transaction.atomic():
        assert _run(BY_BARCODE, [a.product.barcode]) == [(a.product.pk,)]
    assert _text_statements() == []
