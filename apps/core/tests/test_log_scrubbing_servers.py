"""Issue 26, point 9: the servers' own lines pass the scrubber too — gunicorn's access and error
logs (a filter added by deploy/gunicorn.conf.py), and every Django logger through the root's
scrubbing handlers (the production LOGGING keeps no handler of its own on any logger)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from gunicorn.glogging import Logger as GunicornLogger

from apps.core.logging import redacting_filter
from apps.core.tests.test_gunicorn_conf import GunicornConfig
from mipos.settings import base

SIGNED = "eyJzIjoiOWYxYiIsInQiOiJ0X2FjbWUifQ:1vSm2x:Q0h0d2k3b1lqNnZ4T0dWdWdnSmNPbVZx"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.3kq9X0oVZr2Yc8B7sW1dQ4fJm5nE6hT0aLpRuIy"
PASSWORD = "hunter2-Secret!"


def test_every_configured_handler_scrubs():
    """The production LOGGING: the root's handlers are the scrubbing ones, and no logger keeps a
    handler of its own (Django's defaults for `django` and `django.server` are removed)."""
    handlers = base.LOGGING["handlers"]
    assert handlers["console"]["formatter"] == "json"
    assert base.LOGGING["formatters"]["json"]["()"] == "apps.core.logging.JsonLineFormatter"
    assert handlers["log_store"]["class"] == "apps.devtools.log_store.LogStoreHandler"
    assert set(handlers) == {"console", "log_store"}
    loggers = base.LOGGING["loggers"]
    assert loggers["django"]["handlers"] == [] and loggers["django.server"]["handlers"] == []
    assert all(not config.get("handlers") for config in loggers.values())
    assert all(config.get("propagate", True) for config in loggers.values())


def test_gunicorn_access_and_error_lines_are_scrubbed(tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    cfg = GunicornConfig().cfg
    cfg.set("accesslog", str(access))
    cfg.set("errorlog", str(errors))
    log = GunicornLogger(cfg)
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"/r/receipt?signature={SIGNED}&format=html",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_REFERER": f"https://shop.example/?token={JWT}",
            "REMOTE_ADDR": "10.0.0.7",
        }
        response = SimpleNamespace(status="404 Not Found", sent=10, headers=[])
        log.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
        try:
            raise RuntimeError(f"bad header: password={PASSWORD}")
        except RuntimeError:
            log.exception("Error handling request /r/receipt?signature=%s", SIGNED)
    finally:
        for logger in (log.error_log, log.access_log):
            for handler in [h for h in logger.handlers if getattr(h, "_gunicorn", False)]:
                logger.removeHandler(handler)
                handler.close()
    written = access.read_text()
    assert '"GET /r/receipt?signature=[REDACTED]&format=html HTTP/1.1" 404 10' in written
    assert '"https://shop.example/?token=[REDACTED]"' in written
    failure = errors.read_text()
    assert "Error handling request /r/receipt?signature=[REDACTED]" in failure
    assert "RuntimeError: bad header: password=[REDACTED]" in failure
    for secret in (SIGNED, JWT, PASSWORD):
        assert secret not in written + failure
    assert redacting_filter in log.access_log.filters and redacting_filter in log.error_log.filters
