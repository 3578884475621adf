from __future__ import annotations

import json
import logging

import pytest

from apps.core.context import RequestContext, reset_context, set_context
from apps.core.logging import JsonLineFormatter
from apps.core.tests.test_outages import run_without_database


@pytest.mark.django_db
def test_health_is_200_when_the_database_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_health_is_503_when_the_database_is_down():
    """A separate process whose DATABASE_URL points at a port where nothing listens."""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health'); print(r.status_code, r.content.decode())"
    )
    result = run_without_database(script)
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable", "database": "down"}


def test_log_lines_are_json_with_request_tenant_and_user():
    token = set_context(RequestContext(request_id="r-9", tenant="t_acme", user_id="u-1"))
    try:
        record = logging.LogRecord("mipos", logging.INFO, __file__, 1, "hello %s", ("you",), None)
        record.status = 201
        line = JsonLineFormatter().format(record)
    finally:
        reset_context(token)
    entry = json.loads(line)
    assert entry["message"] == "hello you"
    assert (entry["requestId"], entry["tenant"], entry["user"]) == ("r-9", "t_acme", "u-1")
    assert entry["status"] == 201 and entry["level"] == "INFO"
