"""The log store: which records it keeps, its bounded queue, the batched write, the scrubbing and
the retention that bounds the table."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from apps.core.context import RequestContext, reset_context, set_context
from apps.devtools.log_store import LogStore, LogStoreHandler
from apps.devtools.models import LogEntry
from apps.devtools.services import log_entries_purge, log_entries_write, text_redacted

pytestmark = pytest.mark.django_db

SECRET = "Hunter2-very-secret"


def record(name: str, level: int, message: str = "hello", **extra) -> logging.LogRecord:
    made = logging.LogRecord(name, level, __file__, 1, message, None, None)
    made.__dict__.update(extra)
    return made


def stored_text(row: LogEntry) -> str:
    return json.dumps(model_to_dict(row), default=str)


def test_request_lines_from_info_everything_else_from_warning(stored_logs):
    handler = LogStoreHandler()
    handler.handle(record("mipos.request", logging.INFO, "request"))
    handler.handle(record("mipos.request", logging.DEBUG, "too low"))
    handler.handle(record("apps.sales", logging.INFO, "too low"))
    handler.handle(record("apps.sales", logging.WARNING, "kept"))
    handler.handle(record("mipos.devtools", logging.ERROR, "never: the store's own"))
    handler.handle(record("django.db.backends", logging.ERROR, "never: SQL"))
    assert stored_logs.pending() == 2
    assert stored_logs.flush() == 2
    assert sorted(LogEntry.objects.values_list("logger", "level", "message")) == [
        ("apps.sales", "WARNING", "kept"),
        ("mipos.request", "INFO", "request"),
    ]


def test_levels_and_switch_come_from_the_settings(stored_logs, settings):
    settings.LOG_STORE_REQUEST_LEVEL = "WARNING"
    settings.LOG_STORE_LEVEL = "ERROR"
    stored_logs.configure(background=False)
    handler = LogStoreHandler()
    handler.handle(record("mipos.request", logging.INFO))
    handler.handle(record("apps.sales", logging.WARNING))
    handler.handle(record("apps.sales", logging.ERROR))
    assert stored_logs.pending() == 1
    settings.LOG_STORE_ENABLED = False
    stored_logs.configure(background=False)
    handler.handle(record("apps.sales", logging.CRITICAL))
    assert stored_logs.pending() == 0


def test_the_request_context_and_the_request_line_columns_are_kept(stored_logs):
    token = set_context(
        RequestContext(
            request_id="req-123",
            tenant="acme",
            user_id="5b0b5d4e-8f0e-4c55-9a35-1e5f8e1d2c3a",
        )
    )
    try:
        LogStoreHandler().handle(
            record(
                "mipos.request",
                logging.INFO,
                "request",
                method="GET",
                path="/api/v1/products",
                status=200,
                durationMs=12.5,
                route="products",
            )
        )
    finally:
        reset_context(token)
    stored_logs.flush()
    row = LogEntry.objects.get()
    assert (row.request_id, row.tenant, str(row.user_id)) == (
        "req-123",
        "acme",
        "5b0b5d4e-8f0e-4c55-9a35-1e5f8e1d2c3a",
    )
    assert (row.method, row.path, row.status, row.duration_ms, row.level_no) == (
        "GET",
        "/api/v1/products",
        200,
        12.5,
        logging.INFO,
    )
    assert row.extra == {"route": "products"}


def test_a_full_queue_drops_and_counts_and_never_blocks(stored_logs):
    from prometheus_client import REGISTRY

    def dropped_metric() -> float:  # what /metrics shows
        return REGISTRY.get_sample_value("mipos_log_lines_dropped_total") or 0.0

    dropped_before = dropped_metric()
    stored_logs.configure(background=False, queue_size=2)
    handler = LogStoreHandler()
    for n in range(5):
        handler.handle(record("apps.sales", logging.ERROR, f"error {n}"))
    assert (stored_logs.pending(), stored_logs.dropped) == (2, 3)
    assert dropped_metric() == dropped_before + 3
    assert stored_logs.flush() == 2
    assert sorted(LogEntry.objects.values_list("message", flat=True)) == ["error 0", "error 1"]


def test_the_background_thread_writes_full_batches_off_the_request_path(monkeypatch):
    batches: list[tuple[list[str], bool]] = []
    written = threading.Event()

    def write(*, entries):
        names = [entry["message"] for entry in entries]
        batches.append((names, threading.current_thread() is threading.main_thread()))
        written.set()
        return len(entries)

    monkeypatch.setattr("apps.devtools.services.log_entries_write", write)
    store = LogStore().configure(background=True, batch_size=2, flush_seconds=600, purge_minutes=0)
    store.offer(record("apps.sales", logging.ERROR, "error 0"))
    assert store.pending() == 1  # queued only: nothing written by the logging call
    store.offer(record("apps.sales", logging.ERROR, "error 1"))  # a full batch wakes the thread
    assert written.wait(timeout=30)
    assert batches == [(["error 0", "error 1"], False)]
    assert store.pending() == 0
    assert store._thread.daemon and store._thread.name == "mipos-log-store"


def test_batches_are_one_insert_each(stored_logs):
    stored_logs.configure(background=False, batch_size=3)
    handler = LogStoreHandler()
    for n in range(7):
        handler.handle(record("apps.sales", logging.ERROR, f"error {n}"))
    with CaptureQueriesContext(connection) as queries:
        assert stored_logs.flush() == 7
    sent = [q["sql"].split(" ", 2)[:2] for q in queries.captured_queries]
    assert [words for words in sent if words[0] != "SET"] == [["INSERT", "INTO"]] * 3  # 3+3+1
    assert LogEntry.objects.count() == 7


def test_secrets_are_scrubbed_at_every_depth_and_in_text(stored_logs):
    body = {
        "email": "ana@acme.test",
        "password": SECRET,
        "profile": {"newPassword": SECRET, "currentPassword": SECRET},
        "sessions": [{"refreshToken": SECRET, "token": SECRET, "clientSecret": SECRET}],
        "headers": {"Authorization": f"Bearer {SECRET}", "Cookie": SECRET, "Accept": "*/*"},
        "upstream": [{"authorization": SECRET, "x_api_key": SECRET, "note": f"Basic {SECRET}"}],
    }
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    try:
        raise ValueError(f"rejected {body} with password={SECRET}&next=1")
    except ValueError:
        failing = record(
            "apps.users",
            logging.ERROR,
            f"login failed for token {jwt}",
            body=body,
            attempt=2,
        )
        failing.exc_info = sys.exc_info()
    LogStoreHandler().handle(failing)
    stored_logs.flush()
    row = LogEntry.objects.get()
    assert SECRET not in stored_text(row)
    assert jwt not in stored_text(row)
    assert row.exception_type == "ValueError"
    assert "[REDACTED]" in row.traceback and "next=1" in row.traceback
    assert row.message == "login failed for token [REDACTED]"
    assert row.extra == {
        "attempt": 2,
        "body": {
            "email": "ana@acme.test",
            "profile": {},
            "sessions": [{}],
            "headers": {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]", "Accept": "*/*"},
            "upstream": [
                {
                    "authorization": "[REDACTED]",
                    "x_api_key": "[REDACTED]",
                    "note": "Basic [REDACTED]",
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=abc123&user=ana", "password=[REDACTED]&user=ana"),
        ("{'new_password': 'x y', 'ok': 1}", "{'new_password': [REDACTED], 'ok': 1}"),
        ('{"currentPassword": "a\\"b", "ok": 1}', '{"currentPassword": [REDACTED], "ok": 1}'),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [REDACTED]"),
        ("token expired", "token expired"),
        ("no secrets here", "no secrets here"),
    ],
)
def test_text_redaction(text, expected):
    assert text_redacted(text) == expected


def entries(count: int, *, start: datetime, step: timedelta) -> list[dict]:
    return [
        {
            "time": start + n * step,
            "level": "INFO",
            "level_no": logging.INFO,
            "logger": "mipos.request",
            "message": f"line {n}",
        }
        for n in range(count)
    ]


def test_retention_by_age_and_by_row_count_bounds_the_table():
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    log_entries_write(entries=entries(5, start=now - timedelta(days=10), step=timedelta(days=1)))
    # 10, 9 and 8 days old go (older than 7 days); 7 and 6 days old stay
    assert log_entries_purge(retention_days=7, max_rows=0, now=now) == 3
    assert list(LogEntry.objects.values_list("message", flat=True)) == ["line 4", "line 3"]

    # the table never holds more than max_rows after a purge, however much is written
    for round_ in range(4):
        start = now + timedelta(minutes=10 * round_)
        log_entries_write(entries=entries(30, start=start, step=timedelta(seconds=1)))
        log_entries_purge(retention_days=7, max_rows=25, now=now)
        assert LogEntry.objects.count() == 25
    newest = list(LogEntry.objects.values_list("time", flat=True))
    assert newest[0] == now + timedelta(minutes=30, seconds=29)
    assert newest[-1] == now + timedelta(minutes=30, seconds=5)  # the newest 25 of the last 30


def test_the_flusher_purges_when_due(stored_logs):
    stored_logs.configure(background=False, max_rows=10, purge_minutes=10)
    handler = LogStoreHandler()
    assert not stored_logs.purge_due()
    for n in range(12):
        handler.handle(record("apps.sales", logging.ERROR, f"error {n}"))
    stored_logs.flush()
    assert stored_logs.purge_due()  # a tenth of the row budget written since the last purge
    assert stored_logs.purge() == 2
    assert LogEntry.objects.count() == 10
    assert not stored_logs.purge_due()


def test_purge_logs_command(capsys):
    now = datetime.now(UTC)
    start = now - timedelta(days=3, hours=-1)  # 71, 47 and 23 hours old
    log_entries_write(entries=entries(3, start=start, step=timedelta(days=1)))
    call_command("purge_logs", "--days", "2")
    assert LogEntry.objects.count() == 2
    call_command("purge_logs", "--max-rows", "1")
    assert list(LogEntry.objects.values_list("message", flat=True)) == ["line 2"]
    assert "Purged 1 log lines" in capsys.readouterr().out


def test_the_production_logging_config_installs_the_handler():
    from mipos.settings import base

    assert base.LOGGING["handlers"]["log_store"]["class"] == (
        "apps.devtools.log_store.LogStoreHandler"
    )
    assert base.LOGGING["root"]["handlers"] == ["console", "log_store"]
