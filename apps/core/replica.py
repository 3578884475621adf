"""Report, analytics and export reads from a streaming replica (issue 28, `DATABASE_REPLICA_URL`).

- `replica_reads()`: a scope in which ORM reads (through `ReplicaRouter`) and the raw cursors of
  `read_connection()` go to the `replica` alias — when one is configured, reachable, and its lag
  is at most `REPLICA_MAX_LAG_SECONDS`; otherwise to the primary, as outside the scope. The
  replica connection is put on the same tenant (schema) as the request's default connection, so a
  company's report reads that company's schema only. Writes never leave the primary.
- `ReplicaReadsMixin`: DRF views (the reports, analytics, file exports) whose handler runs in the
  scope. A replica that fails mid-report (down, or a query cancelled by a recovery conflict) is
  given up and the handler runs again on the primary: no 500, no primary outage breaker opened.
  Every such response says when its data is from: `meta.dataAsOf` in JSON, `X-Data-As-Of` on
  every response (files included).

The lag rule (`measure`), on the replica, in one query:
- not in recovery (promoted, or the primary itself): not used — it no longer follows the primary;
- its WAL receiver runs and it has replayed everything it received
  (`pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()`): lag 0, data as of now — an idle
  primary sends nothing, so the time since the last replayed commit says nothing about lag;
- otherwise: lag = now - `pg_last_xact_replay_timestamp()` (the commit time of the last replayed
  transaction; unknown → not used), data as of that commit.
A healthy answer is not cached: it costs one round trip on the connection the report then uses,
and a cached "fresh" would hide a lag that grew meanwhile. An unreachable replica is remembered for
DOWN_SECONDS per process, so reports do not each wait the connect timeout meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.utils import timezone

logger = logging.getLogger("mipos.replica")

REPLICA = "replica"
DOWN_SECONDS = 5.0  # an unreachable replica is not tried again for this long (per process)
DATA_AS_OF_HEADER = "X-Data-As-Of"

# The alias reads go to inside a scope; None outside (Django's own routing: the primary).
_reads_alias: ContextVar[str | None] = ContextVar("replica_reads_alias", default=None)


@dataclass(frozen=True)
class ReadSource:
    """Where a scope reads (`alias`) and the time its data is from (`as_of`)."""

    alias: str
    as_of: datetime

    @property
    def on_replica(self) -> bool:
        return self.alias == REPLICA


@dataclass(frozen=True)
class Lag:
    """The replica's answer: usable or not, its data's time, and why (for the log)."""

    usable: bool
    as_of: datetime | None
    reason: str


def configured() -> bool:
    return REPLICA in connections.settings


def max_lag() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "REPLICA_MAX_LAG_SECONDS", 30)))


class ReplicaRouter:
    """Reads in a `replica_reads()` scope go where the scope says; nothing else is routed here
    (None: Django's default, the primary). The replica is never written or migrated, and objects
    of both aliases may be related (they are the same rows)."""

    def db_for_read(self, model, **hints) -> str | None:
        return _reads_alias.get()

    def db_for_write(self, model, **hints) -> str | None:
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA:
            return DEFAULT_DB_ALIAS  # an object read on the replica is saved on the primary
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        both = {obj1._state.db or DEFAULT_DB_ALIAS, obj2._state.db or DEFAULT_DB_ALIAS}
        return True if both <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None


def read_connection():
    """The connection raw report SQL runs on: the scope's, else the primary."""
    return connections[_reads_alias.get() or DEFAULT_DB_ALIAS]


_LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status IS NULL OR status = 'streaming'),
       pg_last_wal_receive_lsn() IS NOT NULL
           AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
       pg_last_xact_replay_timestamp(),
       clock_timestamp()
"""


def measure(cursor, limit: timedelta) -> Lag:
    """The lag rule (module docstring) on a cursor of the replica. `pg_stat_wal_receiver` shows
    a role without pg_read_all_stats the receiver's pid only (status NULL): running is enough."""
    cursor.execute(_LAG_SQL)
    in_recovery, receiving, caught_up, replayed_at, now = cursor.fetchone()
    if not in_recovery:
        return Lag(False, None, "not in recovery (promoted, or the primary itself)")
    if receiving and caught_up:
        return Lag(True, now, "caught up")
    if replayed_at is None:
        return Lag(False, None, "no transaction replayed yet: lag unknown")
    lag = now - replayed_at
    if lag > limit:
        return Lag(False, replayed_at, f"lag {lag.total_seconds():.1f} s over {limit}")
    return Lag(True, replayed_at, f"lag {lag.total_seconds():.1f} s")


class _State:
    """Per process: until when the replica counts as down, and the last outcome (logged once
    per change, not per report)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.last = "primary"

    def note(self, outcome: str, reason: str) -> None:
        with self.lock:
            changed, self.last = outcome != self.last, outcome
        if not changed:
            return
        if outcome == "replica":
            logger.info("report reads use the replica (%s)", reason)
        else:
            logger.warning("report reads fall back to the primary: %s", reason)

    def mark_down(self, reason: str) -> None:
        with self.lock:
            self.down_until = time.monotonic() + DOWN_SECONDS
        self.note("down", reason)

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def reset(self) -> None:
        with self.lock:
            self.down_until, self.last = 0.0, "primary"


state = _State()


def _replica_failed(error: BaseException) -> None:
    """The replica connection failed: closed (Django would otherwise reuse a broken one in this
    request) and not tried again for DOWN_SECONDS."""
    with suppress(DatabaseError):
        connections[REPLICA].close()
    state.mark_down(f"replica unreachable or failing: {type(error).__name__}: {error}".strip())


def choose() -> ReadSource:
    """Where the reads of a scope opened now go, the lag measured on the replica's connection
    (which is put on the default connection's tenant first)."""
    primary = ReadSource(DEFAULT_DB_ALIAS, timezone.now())
    if not configured() or state.is_down():
        return primary
    replica = connections[REPLICA]
    replica.set_tenant(connection.tenant)
    try:
        with replica.cursor() as cursor:
            lag = measure(cursor, max_lag())
    except DatabaseError as error:
        _replica_failed(error)
        return primary
    if not lag.usable:
        state.note("lagging", lag.reason)
        return primary
    state.note("replica", lag.reason)
    return ReadSource(REPLICA, lag.as_of)


@contextmanager
def reads_from(source: ReadSource) -> Iterator[ReadSource]:
    """Reads go to `source` (already chosen) until the block ends: a streamed file's rows, read
    after the view has returned, re-enter the view's choice. The replica's schema is the default
    connection's, set again here (a streamed response runs after the middleware reset it)."""
    if source.on_replica:
        connections[REPLICA].set_tenant(connection.tenant)
    token = _reads_alias.set(source.alias)
    try:
        yield source
    finally:
        _reads_alias.reset(token)
        if source.on_replica:
            connections[REPLICA].set_schema_to_public()


@contextmanager
def replica_reads() -> Iterator[ReadSource]:
    """The scope of report reads: on the replica when it is fit (see `choose`), else the
    primary. Yields the chosen source (its `as_of` is what the response shows)."""
    with reads_from(choose()) as source:
        yield source


def is_replica_error(error: BaseException) -> bool:
    """An error a report on the replica is run again on the primary for: the connection failed
    or the server cancelled the query (a recovery conflict: SQLSTATE 40001, an OperationalError)."""
    return isinstance(error, OperationalError | InterfaceError)


def as_of_text(moment: datetime) -> str:
    """ISO 8601 in UTC, as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ReplicaReadsMixin:
    """A DRF view whose handler reads in a `replica_reads()` scope (when `replica_reads_wanted`)
    and whose responses say when their data is from: `X-Data-As-Of`, and `meta.dataAsOf` in the
    JSON envelope. The scope opens after authentication, permissions and throttling (which read
    the primary) and closes when the response is finalized."""

    read_source: ReadSource | None = None

    def replica_reads_wanted(self, request) -> bool:
        return True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.replica_reads_wanted(request):
            self._read_scope = ExitStack()
            self.read_source = self._read_scope.enter_context(replica_reads())

    def _close_read_scope(self) -> None:
        scope = getattr(self, "_read_scope", None)
        if scope is not None:
            self._read_scope = None
            scope.close()

    def handle_exception(self, exc):
        source = self.read_source
        if source is not None and source.on_replica and is_replica_error(exc):
            _replica_failed(exc)
            self._close_read_scope()
            self._read_scope = ExitStack()
            self.read_source = self._read_scope.enter_context(
                reads_from(ReadSource(DEFAULT_DB_ALIAS, timezone.now()))
            )
            request = self.request
            handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            try:
                return handler(request, *self.args, **self.kwargs)
            except Exception as again:  # the primary's own failure, answered as usual
                exc = again
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        self._close_read_scope()
        source = self.read_source
        if source is None or not 200 <= response.status_code < 300:
            return response
        stamp = as_of_text(source.as_of)
        response[DATA_AS_OF_HEADER] = stamp
        data = getattr(response, "data", None)
        if isinstance(data, dict) and getattr(response, "enveloped", False):
            meta = data.get("meta")
            if isinstance(meta, dict):
                meta["dataAsOf"] = stamp
        elif data is not None and not getattr(response, "enveloped", False):
            response.data = {"success": True, "data": data, "meta": {"dataAsOf": stamp}}
            response.enveloped = True
        return response
