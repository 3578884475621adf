"""The log store: structured log lines kept in a table for the dev-tools viewer, written without
slowing requests.

- `LogStoreHandler` (a `logging.Handler` on the root logger, see `LOGGING` in the settings) keeps a
  record when its level reaches the threshold of its logger (`LOG_STORE_REQUEST_LEVEL` for the
  per-request line of `mipos.request`, `LOG_STORE_LEVEL` for everything else). It only turns the
  record into a plain dict (with the request context: request id, tenant, user) and puts it on a
  bounded in-process queue: no database, no lock held, never blocks. When the queue is full the
  record is dropped and counted (`log_store.dropped`).
- A daemon thread (started on the first record of each process, again after a fork) wakes every
  `LOG_STORE_FLUSH_SECONDS` (sooner when a batch is full), writes the queue in batches of
  `LOG_STORE_BATCH_SIZE` with one multi-row INSERT each (`apps.devtools.services`) on its own
  database connection (a thread's own, in the public schema), and purges by age and row count
  every `LOG_RETENTION_PURGE_MINUTES`. Its failures are counted (`log_store.failed`), never
  logged (a log line about storing log lines would feed itself).
- Secrets are scrubbed when the rows are built (in the thread, not in the request).

Tests drive it synchronously: `log_store.configure(background=False)`, then `log_store.flush()`
writes what is queued in the caller's connection (inside the test's transaction)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from apps.core import metrics
from apps.core.context import current
from apps.core.logging import _STANDARD

REQUEST_LOGGER = "mipos.request"
# Never stored: the store's own logger and the SQL log (a batch insert would log itself).
_SKIPPED_PREFIXES = ("mipos.devtools", "django.db.backends")
# Extras that name the request line's columns (the rest goes to `extra`).
_COLUMN_EXTRAS = {
    "method": "method",
    "path": "path",
    "status": "status",
    "status_code": "status",  # django.request
    "durationMs": "duration_ms",
    "duration_ms": "duration_ms",
}
# Extras never kept: Django's request object (`django.request`), the channel layer's scope.
_DROPPED_EXTRAS = {"request", "scope", "exc_info", "stack_info"}
_PLAIN = (str, int, float, bool, type(None), dict, list, tuple)


def _level(name: str | int) -> int:
    if isinstance(name, int):
        return name
    value = logging.getLevelName(str(name).strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {name!r}")
    return value


def exception_type_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def record_entry(record: logging.LogRecord) -> dict[str, Any]:
    """The record as a plain dict: the request context of the thread that logged it, the columns
    the request line carries, the other extras (unscrubbed: the writer scrubs), and the exception
    type and traceback text."""
    ctx = current()
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC),
        "level": record.levelname,
        "level_no": record.levelno,
        "logger": record.name,
        "message": record.getMessage(),
        "request_id": ctx.request_id,
        "tenant": ctx.tenant,
        "user_id": ctx.user_id,
    }
    extra: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD or key.startswith("_") or key in _DROPPED_EXTRAS:
            continue
        column = _COLUMN_EXTRAS.get(key)
        if column is not None:
            entry[column] = value
        elif isinstance(value, _PLAIN):
            extra[key] = value
        else:
            extra[key] = str(value)
    entry["extra"] = extra
    request = record.__dict__.get("request")
    if request is not None and hasattr(request, "path"):
        _fill_from_request(entry, request)
    if record.exc_info and record.exc_info[0] is not None:
        kind, exc, tb = record.exc_info
        entry["exception_type"] = exception_type_name(kind)
        entry["traceback"] = "".join(traceback.format_exception(kind, exc, tb))
    elif record.exc_text:
        entry["traceback"] = record.exc_text
    if record.stack_info:
        entry["traceback"] = (entry.get("traceback", "") + "\n" + record.stack_info).strip()
    return entry


def _fill_from_request(entry: dict[str, Any], request: Any) -> None:
    """`django.request` logs a 5xx response after the middleware, once the request context is
    gone: its request object still tells which request (and company) it was."""
    if not entry["request_id"]:
        entry["request_id"] = getattr(request, "request_id", "") or ""
    entry.setdefault("method", getattr(request, "method", "") or "")
    entry.setdefault("path", getattr(request, "path", "") or "")
    tenant = getattr(request, "tenant", None)
    if entry["tenant"] is None and getattr(tenant, "pk", None) is not None:
        entry["tenant"] = tenant.schema_name
    # not the user: reading `request.user` may load it (a query inside a log call)


class LogStore:
    """The queue, the policy (which records), the flusher thread and its counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configured = False
        self._fresh_state()

    def _fresh_state(self) -> None:
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=10_000)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._last_purge = time.monotonic()
        self._written_since_purge = 0
        self.dropped = 0  # records refused because the queue was full
        self.failed = 0  # records lost because a batch could not be written
        self.written = 0

    # --- configuration ------------------------------------------------------------------------
    def configure(self, **overrides: Any) -> LogStore:
        """(Re)reads the settings; `overrides` (tests) win. Empties the queue and starts the purge
        window afresh."""
        from django.conf import settings

        options = {
            "enabled": getattr(settings, "LOG_STORE_ENABLED", True),
            "background": getattr(settings, "LOG_STORE_BACKGROUND", True),
            "request_level": getattr(settings, "LOG_STORE_REQUEST_LEVEL", "INFO"),
            "level": getattr(settings, "LOG_STORE_LEVEL", "WARNING"),
            "queue_size": getattr(settings, "LOG_STORE_QUEUE_SIZE", 10_000),
            "batch_size": getattr(settings, "LOG_STORE_BATCH_SIZE", 500),
            "flush_seconds": getattr(settings, "LOG_STORE_FLUSH_SECONDS", 2.0),
            "retention_days": getattr(settings, "LOG_RETENTION_DAYS", 7),
            "max_rows": getattr(settings, "LOG_RETENTION_MAX_ROWS", 200_000),
            "purge_minutes": getattr(settings, "LOG_RETENTION_PURGE_MINUTES", 10),
        }
        unknown = set(overrides) - set(options)
        if unknown:
            raise TypeError(f"unknown log store options: {sorted(unknown)}")
        options.update(overrides)
        with self._lock:
            self.enabled = bool(options["enabled"])
            self.background = bool(options["background"])
            self.request_level = _level(options["request_level"])
            self.level = _level(options["level"])
            self.batch_size = max(1, int(options["batch_size"]))
            self.flush_seconds = max(0.05, float(options["flush_seconds"]))
            self.retention_days = int(options["retention_days"])
            self.max_rows = int(options["max_rows"])
            self.purge_seconds = max(0, int(options["purge_minutes"])) * 60
            self._queue = queue.Queue(maxsize=max(1, int(options["queue_size"])))
            self._last_purge = time.monotonic()
            self._written_since_purge = 0
            self.configured = True
        return self

    def _after_fork(self) -> None:
        """In a forked child (gunicorn with --preload): the parent's thread did not come along,
        and its lock or queue may be mid-use. Start over; the next record starts a thread."""
        self._lock = threading.Lock()
        self._fresh_state()
        self.configured = False

    # --- the request side: cheap, never blocks -------------------------------------------------
    def wanted(self, record: logging.LogRecord) -> bool:
        if not self.enabled or record.name.startswith(_SKIPPED_PREFIXES):
            return False
        threshold = self.request_level if record.name == REQUEST_LOGGER else self.level
        if record.levelno < threshold:
            return False
        # the flusher's own troubles (a failing INSERT logs nothing, but libraries might)
        return self._thread is None or threading.current_thread() is not self._thread

    def offer(self, record: logging.LogRecord) -> None:
        if not self.configured:
            self.configure()
        if not self.wanted(record):
            return
        self.put(record_entry(record))

    def put(self, entry: dict[str, Any]) -> bool:
        """Queues one entry; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            metrics.LOG_LINES_DROPPED.inc()
            return False
        if self.background:
            if self._thread is None or self._pid != os.getpid():
                self._start()
            if self._queue.qsize() >= self.batch_size:
                self._wake.set()
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    def clear(self) -> None:
        """Forgets what is queued and the counters (tests)."""
        with self._lock:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self.dropped = self.failed = self.written = 0

    # --- the writing side ----------------------------------------------------------------------
    def _take(self, limit: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        while len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def flush(self, *, swallow: bool = False) -> int:
        """Writes everything queued, batch by batch, in the calling thread's connection; returns
        the number of rows written. With `swallow` (the flusher thread) a batch that cannot be
        written is counted as failed and the connection closed, instead of raising."""
        from django.db import connection

        from apps.devtools.services import log_entries_write

        written = 0
        while True:
            batch = self._take(self.batch_size)
            if not batch:
                break
            try:
                log_entries_write(entries=batch)
            except Exception:
                if not swallow:
                    raise
                with self._lock:
                    self.failed += len(batch)
                metrics.LOG_LINES_FAILED.inc(len(batch))
                connection.close()
                continue
            written += len(batch)
        with self._lock:
            self.written += written
            self._written_since_purge += written
        return written

    def purge(self) -> int:
        """Applies the retention now (age, then row count); returns the rows deleted."""
        from apps.devtools.services import log_entries_purge

        with self._lock:
            self._last_purge = time.monotonic()
            self._written_since_purge = 0
        return log_entries_purge(retention_days=self.retention_days, max_rows=self.max_rows)

    def purge_due(self) -> bool:
        """Every `purge_minutes`, or sooner once a tenth of the row budget was written since."""
        if self.purge_seconds <= 0:
            return False
        return (
            time.monotonic() - self._last_purge >= self.purge_seconds
            or self._written_since_purge >= max(1, self.max_rows // 10)
        )

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="mipos-log-store", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        from django.db import connection

        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                connection.close_if_unusable_or_obsolete()
                self.flush(swallow=True)
                if self.purge_due():
                    self.purge()
                connection.close_if_unusable_or_obsolete()
            except Exception:  # the flusher outlives any failure (counted, never logged)
                connection.close()

    def at_exit(self) -> None:
        """A last flush when the process ends normally (what is queued would be lost)."""
        if self._thread is not None and self._pid == os.getpid() and self.pending():
            with contextlib.suppress(Exception):
                self.flush(swallow=True)


log_store = LogStore()
os.register_at_fork(after_in_child=log_store._after_fork)
atexit.register(log_store.at_exit)


class LogStoreHandler(logging.Handler):
    """Puts the records worth keeping on the log store's queue (see the module docstring)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            log_store.offer(record)
        except Exception:
            self.handleError(record)
