"""Issue 26, point 9: every log line passes one scrubber (apps.core.logging) — the JSON lines on
stdout, the rows of the log store, gunicorn's access and error lines — so a receipt preview's
`signature=`, a token, a JWT, a `?code=`, a password in an exception never reach either, while
look-alikes (`barcode=`, `postcode`) stay readable."""

from __future__ import annotations

import io
import json
import logging

import pytest

from apps.core.logging import JsonLineFormatter, text_redacted
from apps.devtools.log_store import LogStoreHandler, log_store
from apps.devtools.models import LogEntry

SIGNED = "eyJzIjoiOWYxYiIsInQiOiJ0X2FjbWUifQ:1vSm2x:Q0h0d2k3b1lqNnZ4T0dWdWdnSmNPbVZx"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.3kq9X0oVZr2Yc8B7sW1dQ4fJm5nE6hT0aLpRuIy"
PASSWORD = "hunter2-Secret!"


@pytest.fixture
def both_outputs():
    """A logger wired as production wires the root: the JSON console handler (into a buffer)
    and the log store's handler (flushed synchronously in the test's transaction)."""
    stream = io.StringIO()
    console = logging.StreamHandler(stream)
    console.setFormatter(JsonLineFormatter())
    store = LogStoreHandler()
    logger = logging.getLogger("django.channels.server")  # Daphne's access lines
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers = [console, store]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log_store.configure(background=False, level="INFO")
    try:
        yield logger, stream
    finally:
        logger.handlers, level, logger.propagate = saved[0], saved[1], saved[2]
        logger.setLevel(level)
        log_store.configure()


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_secrets_are_redacted_on_stdout_and_in_the_log_store(both_outputs):
    logger, stream = both_outputs
    # Daphne's access line of a 4xx: a format with a dict of arguments, scrubbed once formatted
    logger.warning(
        "HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]",
        {
            "method": "GET",
            "path": f"/r/receipt?signature={SIGNED}&format=html",
            "status": 404,
            "time_taken": 0.01,
            "client": "10.0.0.7:51000",
        },
    )
    logger.warning("WebSocket REJECT /ws/events?token=%s&v=2 [10.0.0.7:51002]", "abc.def-123")
    logger.warning("refresh refused for %s", JWT)
    logger.warning("callback", extra={"path": "/oauth/return?code=123456&state=ok"})
    try:
        raise ValueError(f"could not sign in with email=ana@acme.test&password={PASSWORD}")
    except ValueError:
        logger.exception("login failed")
    logger.warning("scanned barcode=5901234123457 for postcode 00-950 (postcode=00950, code 7)")

    log_store.flush()
    stored = list(LogEntry.objects.order_by("time", "message"))
    printed = lines_of(stream)

    expected = [
        "HTTP GET /r/receipt?signature=[REDACTED]&format=html 404 [0.01, 10.0.0.7:51000]",
        "WebSocket REJECT /ws/events?token=[REDACTED]&v=2 [10.0.0.7:51002]",
        "refresh refused for [REDACTED]",
        "callback",
        "login failed",
        "scanned barcode=5901234123457 for postcode 00-950 (postcode=00950, code 7)",
    ]
    assert [line["message"] for line in printed] == expected
    assert sorted(row.message for row in stored) == sorted(expected)

    # the extra field (a column of the log store: `path`)
    assert printed[3]["path"] == "/oauth/return?code=[REDACTED]&state=ok"
    assert next(row for row in stored if row.message == "callback").path == (
        "/oauth/return?code=[REDACTED]&state=ok"
    )
    # the exception text
    assert "email=ana@acme.test&password=[REDACTED]" in printed[4]["exception"]
    failed = next(row for row in stored if row.message == "login failed")
    assert failed.exception_type == "ValueError"
    assert "email=ana@acme.test&password=[REDACTED]" in failed.traceback

    everything = stream.getvalue() + json.dumps(
        [[row.message, row.path, row.traceback, row.extra] for row in stored]
    )
    for secret in (SIGNED, JWT, PASSWORD, "abc.def-123", "123456"):
        assert secret not in everything


def test_extras_of_any_shape_are_scrubbed_on_stdout():
    record = logging.LogRecord("apps.x", logging.WARNING, __file__, 1, "upstream", None, None)
    record.apiKey = "k-123"
    record.request_body = {"pin": "4821", "note": f"Bearer {JWT}", "code": "VALIDATION_ERROR"}
    record.url = "https://pay.example/cb?sig=abcdef&key=zz9&amount=18.11"
    entry = json.loads(JsonLineFormatter().format(record))
    assert entry["apiKey"] == "[REDACTED]"
    assert entry["request_body"] == str(
        {"pin": "[REDACTED]", "note": "Bearer [REDACTED]", "code": "VALIDATION_ERROR"}
    )
    assert entry["url"] == "https://pay.example/cb?sig=[REDACTED]&key=[REDACTED]&amount=18.11"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("?signature=a:b:c&x=1", "?signature=[REDACTED]&x=1"),
        (
            "token=t1; secret=s2, api_key=k3",
            "token=[REDACTED]; secret=[REDACTED], api_key=[REDACTED]",
        ),
        (
            "?key=1&access=2&refresh=3&code=4&pin=5",
            "?key=[REDACTED]&access=[REDACTED]&refresh=[REDACTED]&code=[REDACTED]&pin=[REDACTED]",
        ),
        (
            '{"password": "a b", "newPassword": "c"}',
            '{"password": [REDACTED], "newPassword": [REDACTED]}',
        ),
        ("Authorization: Bearer abc", "Authorization: [REDACTED]"),
        ("authorization=bearer%20x", "authorization=[REDACTED]"),
        (f"jwt {JWT} end", "jwt [REDACTED] end"),
        # look-alikes stay
        ("barcode=5901234123457&postcode=00950", "barcode=5901234123457&postcode=00950"),
        ('{"code": "VALIDATION_ERROR"}', '{"code": "VALIDATION_ERROR"}'),
        (
            "keyboard=1 monkey=2 idempotency_key=3 pinned=4",
            "keyboard=1 monkey=2 idempotency_key=3 pinned=4",
        ),
        ("token expired", "token expired"),
        ("GET /api/v1/sales/42 200", "GET /api/v1/sales/42 200"),
    ],
)
def test_text_redacted(text, expected):
    assert text_redacted(text) == expected
