"""Reports from a real streaming standby (issue 28, apps.core.replica), slow tier.

The test starts a standby of the PostgreSQL server the tests run on (standby.py: pg_basebackup -R,
pg_ctl on a free port), commits report data in two companies, waits for the standby to replay it
and asks for the reports through the API with the `replica` alias pointing at the standby:
- the report queries ran on a connection that answers `pg_is_in_recovery() = true` (the standby's
  port), the figures equal the primary's, and each company sees its own rows only;
- a streamed file (the expenses list as CSV) is read on the standby too;
- with replay paused and a newer write on the primary, the report reads the standby while its lag
  is within REPLICA_MAX_LAG_SECONDS (the old figure, `dataAsOf` = the last replayed commit) and the
  primary past it (the new figure, `dataAsOf` now); replay resumed, the standby again;
- a stopped standby: the primary, 200, no error.
Skipped with the reason when this machine's server cannot have a standby, except under CI=1,
where that fails."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import date, datetime, timedelta

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.core import replica
from apps.core.replica import REPLICA
from apps.core.tests.replica_support import committed_expense, replica_alias
from apps.reports.tests.standby import (
    StandbyUnavailable,
    conninfo,
    start_standby,
    wait_caught_up,
    wait_for,
    wait_received,
)

pytestmark = pytest.mark.slow

DAY = date(2019, 3, 15)
CLUSTER_WAL_SLACK = timedelta(seconds=2)
PERIOD = {"from": "2019-03-01", "to": "2019-03-31"}


@pytest.fixture(scope="module")
def standby(worlds, django_db_blocker):
    """The running standby (with `.options` to restart it); stopped and deleted afterwards."""
    with django_db_blocker.unblock():
        primary = conninfo(connection.settings_dict)
    started = time.monotonic()
    try:
        server, options = start_standby(primary)
    except StandbyUnavailable as reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the replica test; no standby: {reason}")
        pytest.skip(f"no streaming standby of this machine's PostgreSQL: {reason}")
    server.options = options
    server.started_in = time.monotonic() - started
    try:
        yield server
    finally:
        server.discard()


@pytest.fixture(scope="module")
def primary_sql(standby, django_db_blocker):
    with django_db_blocker.unblock():
        params = conninfo(connection.settings_dict)
    with psycopg.connect(**params) as conn:
        yield conn


@pytest.fixture(scope="module")
def companies(worlds, standby, django_db_blocker):
    """An expense committed in each company on DAY: A 42.50 ("Replica rent A"), B 77.70; removed
    afterwards with the tokens the tests issued."""
    a, b = worlds["a"], worlds["b"]
    users = [a.admin, b.admin]
    with django_db_blocker.unblock():
        tokens = set(OutstandingToken.objects.filter(user__in=users).values_list("pk", flat=True))
        removals = [
            committed_expense(a, category="Replica rent A", amount="42.50", day=DAY),
            committed_expense(b, category="Replica rent B", amount="77.70", day=DAY),
        ]
        try:
            yield a, b
        finally:
            for remove in removals:
                remove()
            OutstandingToken.objects.filter(user__in=users).exclude(pk__in=tokens).delete()


@pytest.fixture
def unblocked(django_db_blocker):
    with django_db_blocker.unblock():
        yield


class Seen:
    """Which alias ran each statement on the expenses table, and what the connection that ran
    it answered to `pg_is_in_recovery()` and its port (asked once per connection session)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, bool, int]] = []
        self._asked: dict[object, tuple[bool, int]] = {}  # by connection (kept: no id reuse)

    def wrapper(self, alias: str):
        def record(execute, sql, params, many, context):
            if "expenses_expense" in sql:
                raw = context["connection"].connection  # the psycopg connection itself
                if raw not in self._asked:
                    row = raw.execute(
                        "SELECT pg_is_in_recovery(), current_setting('port')::int"
                    ).fetchone()
                    self._asked[raw] = (row[0], row[1])
                self.statements.append((alias, *self._asked[raw]))
            return execute(sql, params, many, context)

        return record

    def __enter__(self):
        self._wrappers = [
            connections[DEFAULT_DB_ALIAS].execute_wrapper(self.wrapper(DEFAULT_DB_ALIAS))
        ]
        if replica.configured():
            self._wrappers.append(connections[REPLICA].execute_wrapper(self.wrapper(REPLICA)))
        for wrapper in self._wrappers:
            wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        for wrapper in reversed(self._wrappers):
            wrapper.__exit__(*exc)

    @property
    def places(self) -> set[tuple[str, bool, int]]:
        return set(self.statements)


def profit(client) -> tuple[dict, str]:
    response = client.get("/api/v1/reports/profit", PERIOD)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["meta"] == {"dataAsOf": response[replica.DATA_AS_OF_HEADER]}
    return body["data"], body["meta"]["dataAsOf"]


def when(text: str) -> datetime:
    moment = parse_datetime(text)
    assert moment is not None and moment.tzinfo is not None, text
    return moment


def primary_port() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('port')::int")
        return cursor.fetchone()[0]


def test_reports_read_the_standby_and_equal_the_primary_company_by_company(
    api, standby, primary_sql, companies, unblocked
):
    a, b = companies
    client_a, client_b = api(a.admin), api(b.admin)
    on_primary = {"a": profit(client_a)[0], "b": profit(client_b)[0]}
    assert on_primary["a"]["expenses"]["total"] == "42.50"
    assert on_primary["b"]["expenses"]["total"] == "77.70"
    with standby.connect() as standby_sql:
        wait_caught_up(primary_sql, standby_sql)
    with replica_alias(standby.url):
        for name, client, total, category in (
            ("b", client_b, "77.70", "Replica rent B"),
            ("a", client_a, "42.50", "Replica rent A"),  # the same connection, back on A
        ):
            before = timezone.now()
            with Seen() as seen:
                data, as_of = profit(client)
            assert seen.places == {(REPLICA, True, standby.port)}  # a standby answered them
            assert data == on_primary[name]
            assert data["expenses"]["total"] == total
            assert [row["name"] for row in data["expenses"]["byCategory"]] == [category]
            # caught up: as of now — or, when the standby is that instant replaying WAL of another
            # database of the cluster (the other xdist worker's), as of its last replayed commit, a
            # moment earlier
            assert before - CLUSTER_WAL_SLACK <= when(as_of) <= timezone.now()

        before = timezone.now()
        with Seen() as seen:
            response = client_a.get("/api/v1/expenses", {"format": "csv", **PERIOD})
            assert response.status_code == 200
            body = b"".join(response.streaming_content).decode()  # read while streamed
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [(row["amount"], row["date"]) for row in rows] == [("42.50", "2019-03-15")]
        assert seen.places == {(REPLICA, True, standby.port)}
        # as above: a standby replaying another database's WAL then dates it a moment earlier
        as_of = when(response[replica.DATA_AS_OF_HEADER])
        assert before - CLUSTER_WAL_SLACK <= as_of <= timezone.now()


def test_a_lagging_standby_is_read_within_the_limit_and_not_past_it(
    api, standby, primary_sql, companies, settings, unblocked
):
    a, _ = companies
    client = api(a.admin)
    with standby.connect() as standby_sql, replica_alias(standby.url):
        wait_caught_up(primary_sql, standby_sql)
        standby_sql.execute("SELECT pg_wal_replay_pause()")
        remove = None
        try:
            wait_for(
                lambda: (
                    standby_sql.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
                    == "paused"
                ),
                timeout=30,
                what="replay to pause",
            )
            remove = committed_expense(a, category="Replica late", amount="5.00", day=DAY)
            wait_received(primary_sql, standby_sql)  # received, not replayed
            replayed_at = standby_sql.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()[
                0
            ]

            settings.REPLICA_MAX_LAG_SECONDS = 3600  # within the limit: the standby, as of then
            with Seen() as seen:
                data, as_of = profit(client)
            assert seen.places == {(REPLICA, True, standby.port)}
            assert data["expenses"]["total"] == "42.50"  # the standby has not replayed the 5.00
            assert when(as_of) == replayed_at

            settings.REPLICA_MAX_LAG_SECONDS = 0.2  # past it: the primary, as of now
            wait_for(
                lambda: standby_sql.execute(
                    "SELECT clock_timestamp() - pg_last_xact_replay_timestamp()"
                    " > interval '0.2 seconds'"
                ).fetchone()[0],
                timeout=10,
                what="the lag to pass 0.2 s",
            )
            before = timezone.now()
            with Seen() as seen:
                data, as_of = profit(client)
            assert seen.places == {(DEFAULT_DB_ALIAS, False, primary_port())}
            assert data["expenses"]["total"] == "47.50"
            assert before <= when(as_of) <= timezone.now()
        finally:
            standby_sql.execute("SELECT pg_wal_replay_resume()")
            if remove is not None:
                remove()

        wait_caught_up(primary_sql, standby_sql)  # replay resumed: the standby again
        with Seen() as seen:
            data, _ = profit(client)
        assert seen.places == {(REPLICA, True, standby.port)}
        assert data["expenses"]["total"] == "42.50"  # the late expense was removed meanwhile


def test_a_stopped_standby_leaves_reports_on_the_primary_without_an_error(
    api, standby, primary_sql, companies, unblocked
):
    a, _ = companies
    client = api(a.admin)
    standby.stop()
    try:
        with replica_alias(standby.url):
            before = timezone.now()
            with Seen() as seen:
                data, as_of = profit(client)
            took = timezone.now() - before
            assert seen.places == {(DEFAULT_DB_ALIAS, False, primary_port())}
            assert data["expenses"]["total"] == "42.50"
            assert before <= when(as_of) <= timezone.now()
            assert replica.state.is_down()
            assert took.total_seconds() < 2  # refused at once, not a connect timeout
    finally:
        standby.start(standby.options)  # for tests that may run after this one
        with standby.connect() as standby_sql:
            wait_caught_up(primary_sql, standby_sql)
