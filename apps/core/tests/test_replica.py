"""The replica mechanism's logic without a standby (apps.core.replica): the router's choices,
no replica configured = the primary (its time as the data's), the lag rule's branches, an
unreachable replica (fallback, logged once, not retried meanwhile) and a replica failing mid-report
(the report runs again on the primary, the primary's breaker stays closed). The real standby:
apps/reports/tests/test_replica_standby.py (slow tier)."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import tenant_context

from apps.core import outage, replica
from apps.core.replica import REPLICA, Lag, ReadSource
from apps.core.tests.replica_support import committed_expense, replica_alias
from apps.expenses.models import Expense
from apps.expenses.services import expense_category_create, expense_create

PERIOD = {"from": "2019-03-01", "to": "2019-03-31"}


def closed_port_url() -> str:
    """A replica URL nothing listens at (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/nothing?connect_timeout=1"


class Queries:
    """The aliases that ran statements on the expenses table while installed."""

    def __init__(self) -> None:
        self.aliases: list[str] = []

    def wrapper(self, alias: str):
        def record(execute, sql, params, many, context):
            if "expenses_expense" in sql:
                self.aliases.append(alias)
            return execute(sql, params, many, context)

        return record


@pytest.fixture
def rent(world_a):
    """An expense of 42.50 in tenant A on 2019-03-15 (this test's transaction)."""
    with tenant_context(world_a.tenant):
        category = expense_category_create(actor=world_a.admin, name="Replica rent")
        expense_create(
            actor=world_a.admin, category_id=category.pk, amount=Decimal("42.50"),
            date=date(2019, 3, 15),
        )  # fmt: skip
    connection.set_schema_to_public()
    return world_a


def profit(client) -> tuple[dict, dict, str]:
    response = client.get("/api/v1/reports/profit", PERIOD)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return body["data"], body["meta"], response[replica.DATA_AS_OF_HEADER]


def as_of(text: str) -> datetime:
    moment = parse_datetime(text)
    assert moment is not None and moment.tzinfo is not None, text
    return moment


# --- the router --------------------------------------------------------------------------------


def test_the_router_sends_reads_of_a_scope_to_its_alias_and_nothing_else():
    with replica_alias(closed_port_url()):  # configured, never connected here
        assert router.db_for_read(Expense) == DEFAULT_DB_ALIAS  # outside a scope
        assert replica.read_connection() is connections[DEFAULT_DB_ALIAS]
        with replica.reads_from(ReadSource(REPLICA, timezone.now())) as source:
            assert source.on_replica
            assert router.db_for_read(Expense) == REPLICA
            assert replica.read_connection() is connections[REPLICA]
            assert router.db_for_write(Expense) == DEFAULT_DB_ALIAS  # writes never move
            with replica.reads_from(ReadSource(DEFAULT_DB_ALIAS, timezone.now())):
                assert router.db_for_read(Expense) == DEFAULT_DB_ALIAS  # nested: the primary
            assert router.db_for_read(Expense) == REPLICA
        assert router.db_for_read(Expense) == DEFAULT_DB_ALIAS
        read_there = Expense()
        read_there._state.db = REPLICA
        assert router.db_for_write(Expense, instance=read_there) == DEFAULT_DB_ALIAS
        here = Expense()
        here._state.db = DEFAULT_DB_ALIAS
        assert router.allow_relation(read_there, here) is True
        assert router.allow_migrate(REPLICA, "expenses") is False
        # the primary: left to django-tenants' router
        assert replica.ReplicaRouter().allow_migrate(DEFAULT_DB_ALIAS, "expenses") is None


def test_without_a_replica_the_scope_reads_the_primary_and_says_now():
    assert not replica.configured()
    before = timezone.now()
    with replica.replica_reads() as source:
        assert source.alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Expense) == DEFAULT_DB_ALIAS
    assert before <= source.as_of <= timezone.now()


# --- the lag rule --------------------------------------------------------------------------------


class FakeCursor:
    def __init__(self, row: tuple) -> None:
        self.row = row

    def execute(self, sql: str) -> None:
        assert "pg_last_xact_replay_timestamp()" in sql

    def fetchone(self) -> tuple:
        return self.row


NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
LIMIT = timedelta(seconds=30)
OVER = " over 0:00:30"
PROMOTED = "not in recovery (promoted, or the primary itself)"
UNKNOWN = "no transaction replayed yet: lag unknown"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # (in recovery, WAL receiver running, received = replayed, last replayed commit, now)
        ((False, False, False, None, NOW), Lag(False, None, PROMOTED)),
        # caught up with a running receiver: current, however old the last commit (idle primary)
        ((True, True, True, ago(5 * 3600), NOW), Lag(True, NOW, "caught up")),
        ((True, True, False, ago(12), NOW), Lag(True, ago(12), "lag 12.0 s")),
        ((True, True, False, ago(31), NOW), Lag(False, ago(31), "lag 31.0 s" + OVER)),
        # no receiver (the primary gone): only the replayed commit's age counts
        ((True, False, True, ago(31), NOW), Lag(False, ago(31), "lag 31.0 s" + OVER)),
        ((True, False, True, ago(3), NOW), Lag(True, ago(3), "lag 3.0 s")),
        ((True, True, False, None, NOW), Lag(False, None, UNKNOWN)),
    ],
)  # fmt: skip
def test_the_lag_rule(row, expected):
    assert replica.measure(FakeCursor(row), LIMIT) == expected


def test_a_change_of_source_is_logged_once(caplog):
    replica.state.reset()
    with caplog.at_level(logging.INFO, logger="mipos.replica"):
        replica.state.note("lagging", "lag 40.0 s over 0:00:30")
        replica.state.note("lagging", "lag 41.0 s over 0:00:30")
        replica.state.note("replica", "caught up")
        replica.state.note("replica", "caught up")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "report reads fall back to the primary: lag 40.0 s over 0:00:30"),
        ("INFO", "report reads use the replica (caught up)"),
    ]
    replica.state.reset()


# --- through the API -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reports_and_files_say_when_their_data_is_from_lists_do_not(api, rent):
    client = api(rent.admin)
    queries = Queries()
    before = timezone.now()
    with connection.execute_wrapper(queries.wrapper(DEFAULT_DB_ALIAS)):
        data, meta, header = profit(client)
    assert data["expenses"]["total"] == "42.50"
    assert meta == {"dataAsOf": header}
    assert before <= as_of(header) <= timezone.now()  # the primary: now
    assert queries.aliases and set(queries.aliases) == {DEFAULT_DB_ALIAS}

    exported = client.get("/api/v1/reports/profit", {**PERIOD, "format": "csv"})
    assert exported.status_code == 200
    assert before <= as_of(exported[replica.DATA_AS_OF_HEADER]) <= timezone.now()

    listed = client.get("/api/v1/expenses", {"limit": 5})  # a list: the primary, as always
    assert listed.status_code == 200
    assert replica.DATA_AS_OF_HEADER not in listed
    assert set(listed.json()["meta"]) == {"page", "limit", "total", "totalPages"}
    streamed = client.get("/api/v1/expenses", {"format": "csv"})  # its file: an export
    assert streamed.status_code == 200
    assert b"42.50" in b"".join(streamed.streaming_content)
    assert before <= as_of(streamed[replica.DATA_AS_OF_HEADER]) <= timezone.now()

    lines = client.get("/api/v1/reports/sale-lines", PERIOD)  # a report's JSON pages
    assert lines.status_code == 200
    assert lines.json()["meta"] == {
        "page": 1, "limit": 20, "total": 0, "totalPages": 0,
        "dataAsOf": lines[replica.DATA_AS_OF_HEADER],
    }  # fmt: skip


@pytest.fixture
def committed_rent(worlds, django_db_blocker):
    """Tenant A with an expense of 42.50 on 2019-03-15, committed (the replica alias is added
    inside the test: see replica_support); removed afterwards."""
    with django_db_blocker.unblock():
        remove = committed_expense(
            worlds["a"], category="Replica rent", amount="42.50", day=date(2019, 3, 15)
        )
        try:
            yield worlds["a"]
        finally:
            remove()


def test_an_unreachable_replica_is_given_up_logged_once_and_not_retried_meanwhile(
    api, committed_rent, caplog
):
    client = api(committed_rent.admin)
    expected, _, _ = profit(client)
    assert expected["expenses"]["total"] == "42.50"
    with replica_alias(closed_port_url()), caplog.at_level(logging.INFO, logger="mipos.replica"):
        attempts = []
        wrapper = connections[REPLICA]
        connect = wrapper.connect
        wrapper.connect = lambda: attempts.append(1) or connect()
        before = timezone.now()
        data, _, header = profit(client)
        assert data == expected
        assert before <= as_of(header) <= timezone.now()
        assert attempts == [1] and replica.state.is_down()
        data, _, _ = profit(client)  # within DOWN_SECONDS: not tried again
        assert data == expected and attempts == [1]
        messages = [r.getMessage() for r in caplog.records if r.name == "mipos.replica"]
        assert len(messages) == 1
        assert messages[0].startswith("report reads fall back to the primary: replica unreachable")
    assert not outage.database.down  # the primary's breaker is not the replica's


def test_a_replica_failing_mid_report_is_given_up_and_the_report_runs_on_the_primary(
    api, committed_rent, monkeypatch
):
    client = api(committed_rent.admin)
    expected, _, _ = profit(client)
    stale = datetime(2020, 1, 1, tzinfo=UTC)
    with replica_alias(closed_port_url()):
        # the lag check passed, then the replica died: its first report query fails
        monkeypatch.setattr(replica, "choose", lambda: ReadSource(REPLICA, stale))
        before = timezone.now()
        data, meta, header = profit(client)
        assert data == expected
        assert meta == {"dataAsOf": header}
        assert before <= as_of(header) <= timezone.now()  # the primary's time, not the stale one
        assert replica.state.is_down()
    assert not outage.database.down
