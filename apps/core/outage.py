"""What the API does when a service it depends on is down: PostgreSQL or Redis.

- The database is the store of record: a request that cannot reach it answers 503
  `SERVICE_UNAVAILABLE` with `Retry-After` (never a 500; `database_unavailable` tells such an
  error from a bug), and for half a second the process's other requests answer that at once
  while one probes, so an outage costs no waiting and the first request after it gets through.
- Redis is a cache and a channel layer, never a store of record: while it is down every cache read
  misses, writes are skipped and events are not published; a breaker (`Dependency.available`)
  makes a dead Redis cost one fast failure per `probe_seconds`, not a timeout per call.

Either way an outage is logged once when it starts (a warning, no traceback) and once when it ends
(how long it lasted, how many failures), not one traceback per request: a burst of 500 requests
against a stopped database is two log lines, not 500 stack traces.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("mipos.outage")

# SQLSTATEs that mean "the server is not there for us right now", not "this statement is wrong":
# class 08 (connection exception), the server shutting down or starting up, too many connections.
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


class Dependency:
    """One service's health as this process sees it (per process: a breaker is about the calls
    this process makes; `/health/ready` asks the service itself)."""

    def __init__(self, name: str, *, probe_seconds: float) -> None:
        self.name = name
        self.probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic start of the current outage
        self._next_probe = 0.0  # while down: calls before this instant fail fast
        self._failures = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def available(self) -> bool:
        """False while the breaker is open: the last call failed less than `probe_seconds` ago.
        Once per interval one caller is let through to probe the service."""
        if self._down_since is None:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self._next_probe:
                self._failures += 1  # a call refused without trying counts as one failed
                return False
            self._next_probe = now + self.probe_seconds  # this caller probes; others wait
            return True

    def failed(self, error: BaseException, *, breaker: bool = True) -> None:
        """Counts a failed call (and logs the outage when it starts); with `breaker`, other calls
        fail fast for `probe_seconds`."""
        now = time.monotonic()
        with self._lock:
            self._failures += 1
            if breaker:
                self._next_probe = now + self.probe_seconds
            if self._down_since is not None:
                return
            self._down_since = now
        logger.warning(
            "%s unavailable: %s: %s",
            self.name,
            type(error).__name__,
            str(error).strip().splitlines()[0][:300] if str(error).strip() else "",
            extra={"dependency": self.name},
        )

    def succeeded(self) -> None:
        if self._down_since is None:  # the common case: one attribute read, no lock
            return
        with self._lock:
            if self._down_since is None:
                return
            seconds = time.monotonic() - self._down_since
            failures, self._failures = self._failures, 0
            self._down_since = None
            self._next_probe = 0.0
        logger.warning(
            "%s available again after %.1f s (%d failed calls meanwhile)",
            self.name,
            seconds,
            failures,
            extra={"dependency": self.name, "outageSeconds": round(seconds, 3)},
        )


# The database: after a connection-level failure, other requests of this process answer 503 at
# once for half a second while one request probes (apps.core.middleware), instead of each
# waiting for a connection (a pool's timeout, or a connect timeout when the network drops).
database = Dependency("database", probe_seconds=0.5)
redis = Dependency("redis", probe_seconds=2.0)

DATABASE_RETRY_AFTER_SECONDS = 2


def database_unavailable(error: BaseException | None) -> bool:
    """True for an error that means PostgreSQL could not be reached (refused, dropped, shutting
    down, starting up, too many connections, no pooled connection in time) — a 503 — and False
    for errors of the statement itself (a constraint, a deadlock, a timeout: bugs or 409s)."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:  # no server answer at all: refused, reset, pool timeout
        return True
    return sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_STATES


def database_failed(error: BaseException) -> None:
    """A request could not reach PostgreSQL: counted (and logged once per outage), and, with a
    connection pool, this process's pool closed — its idle connections died with the server or
    the network, and checking them one by one would keep requests waiting after the database is
    back; the next request opens a fresh pool. Without a pool Django closes the broken
    connection itself when the request ends, and the next request connects anew."""
    from django.db import connection

    # Only a connection that could not be opened (refused, timed out, no pooled connection in
    # time) opens the breaker; one that died in use (a restart, a killed session) says nothing
    # of the next one.
    database.failed(error, breaker=connection.connection is None)
    if connection.settings_dict.get("OPTIONS", {}).get("pool"):
        with contextlib.suppress(KeyError):  # closed by a concurrent request meanwhile
            connection.close_pool()


class DatabaseOutageLogFilter(logging.Filter):
    """On `django.request`: an error that only says the database is down is counted by the
    outage log (`database`), not written as one traceback per request; nor is each 503 answered
    meanwhile (Django logs every 5xx answer; the request log line has it already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 503:
            return False
        error = record.exc_info[1] if record.exc_info else None
        return not database_unavailable(error)
