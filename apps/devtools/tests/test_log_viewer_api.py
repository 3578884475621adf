"""`GET /api/v1/super-admin/logs`: a 500 shows up with its request id and exception type and
without the request's password; every filter; who may read; pagination and query count."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from apps.devtools.models import LogEntry
from apps.devtools.services import log_entries_write

pytestmark = pytest.mark.django_db

LOGS = "/api/v1/super-admin/logs"
SECRET = "Sup3r-secret-Passw0rd"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.urls("apps.devtools.tests.urls")
def test_a_500_shows_up_with_its_request_id_and_exception_type_and_no_password(
    api, world_a, super_admin, stored_logs
):
    response = api(world_a.admin).post(
        "/api/v1/_test/devtools/careless",
        {"email": "ana@acme.test", "password": SECRET, "profile": {"newPassword": SECRET}},
        format="json",
        HTTP_X_REQUEST_ID="trace-500-devtools",
    )
    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-500-devtools"
    assert stored_logs.flush() == 3

    rows = LogEntry.objects.filter(request_id="trace-500-devtools")
    assert rows.exists()
    for row in rows:  # nowhere in any column of any line of the request
        assert SECRET not in json.dumps(model_to_dict(row), default=str)

    body = api(super_admin).get(LOGS, {"requestId": "trace-500-devtools"}).json()
    assert SECRET not in json.dumps(body)
    lines = {(line["logger"], line["level"]): line for line in body["data"]}
    assert body["meta"]["total"] == len(lines) == rows.count()
    error = lines["mipos.errors", "ERROR"]
    assert error["exceptionType"] == "RuntimeError"
    assert error["message"] == "Unhandled error"
    assert (error["method"], error["path"], error["status"]) == (
        "POST",
        "/api/v1/_test/devtools/careless",
        500,
    )
    assert error["tenant"] == world_a.tenant.schema_name
    assert "RuntimeError: could not save" in error["traceback"]
    assert "[REDACTED]" in error["traceback"] and "ana@acme.test" in error["traceback"]
    # Django's own line for the 500, logged after the middleware: its request still tells which
    internal = lines["django.request", "ERROR"]
    assert internal["message"] == "Internal Server Error: /api/v1/_test/devtools/careless"
    assert (internal["status"], internal["tenant"]) == (500, world_a.tenant.schema_name)
    request_line = lines["mipos.request", "INFO"]
    assert (request_line["status"], request_line["userId"]) == (500, str(world_a.admin.pk))
    assert request_line["durationMs"] > 0


def test_request_lines_of_the_api_are_stored(api, world_a, super_admin, stored_logs):
    client = api(world_a.cashier)
    assert client.get("/api/v1/products", HTTP_X_REQUEST_ID="trace-ok").status_code == 200
    stored_logs.flush()
    data = api(super_admin).get(LOGS, {"requestId": "trace-ok"}).json()["data"]
    assert [(line["logger"], line["level"], line["path"], line["status"]) for line in data] == [
        ("mipos.request", "INFO", "/api/v1/products", 200)
    ]
    assert (data[0]["tenant"], data[0]["userId"]) == (
        world_a.tenant.schema_name,
        str(world_a.cashier.pk),
    )


def line(minutes: int, level: str, message: str, **fields) -> dict:
    return {
        "time": T0 + timedelta(minutes=minutes),
        "level": level,
        "level_no": logging.getLevelName(level),
        "logger": fields.pop("logger", "mipos.request"),
        "message": message,
        **fields,
    }


@pytest.fixture
def seeded(world_a, world_b):
    a, b = world_a.tenant.schema_name, world_b.tenant.schema_name
    log_entries_write(
        entries=[
            line(0, "DEBUG", "debugging", request_id="r-1"),
            line(10, "INFO", "request", request_id="r-1", tenant=a, path="/api/v1/products"),
            line(20, "WARNING", "slow query", logger="apps.reports", request_id="r-2", tenant=b),
            line(30, "ERROR", "Unhandled error", logger="mipos.errors", request_id="r-22",
                 tenant=a, path="/api/v1/sales/checkout", exception_type="KeyError"),
            line(24 * 60, "CRITICAL", "disk full", logger="apps.core"),
        ]
    )  # fmt: skip


def messages(client, **params) -> list[str]:
    response = client.get(LOGS, params)
    assert response.status_code == 200, response.content[:300]
    return [entry["message"] for entry in response.json()["data"]]


def test_newest_first_with_the_envelope(api, super_admin, seeded):
    body = api(super_admin).get(LOGS, {"limit": 2, "page": 2}).json()
    assert body["success"] is True
    assert body["meta"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    assert [entry["message"] for entry in body["data"]] == ["slow query", "request"]
    assert messages(api(super_admin)) == [
        "disk full",
        "Unhandled error",
        "slow query",
        "request",
        "debugging",
    ]


def test_level_is_a_minimum(api, super_admin, seeded):
    client = api(super_admin)
    assert messages(client, level="WARNING") == ["disk full", "Unhandled error", "slow query"]
    assert messages(client, level="error") == ["disk full", "Unhandled error"]
    assert messages(client, level="CRITICAL") == ["disk full"]
    assert len(messages(client, level="DEBUG")) == 5
    for bad in ("LOUD", ""):
        response = client.get(LOGS, {"level": bad})
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["details"][0]["field"]) == ("VALIDATION_ERROR", "level")


def test_from_and_to(api, super_admin, seeded):
    client = api(super_admin)
    assert messages(client, **{"from": "2026-12-01T12:10:00Z", "to": "2026-12-01T12:30:00Z"}) == [
        "slow query",
        "request",
    ]
    assert messages(client, **{"from": "2026-12-02"}) == ["disk full"]
    assert messages(client, to="2026-12-01") == [
        "Unhandled error",
        "slow query",
        "request",
        "debugging",
    ]
    response = client.get(LOGS, {"from": "yesterday"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "from"


def test_search_in_message_and_path(api, super_admin, seeded):
    client = api(super_admin)
    assert messages(client, search="UNHANDLED") == ["Unhandled error"]
    assert messages(client, search="/products") == ["request"]
    assert messages(client, search="nothing like it") == []


def test_request_id_is_exact(api, super_admin, seeded):
    client = api(super_admin)
    assert messages(client, requestId="r-1") == ["request", "debugging"]
    assert messages(client, requestId="r-2") == ["slow query"]  # not r-22
    assert messages(client, requestId="r-") == []


@pytest.mark.parametrize(("param", "field"), [("search", "search"), ("requestId", "requestId"),
                                              ("tenant", "tenant")])  # fmt: skip
def test_nul_characters_are_400_not_500(api, super_admin, param, field):
    response = api(super_admin).get(LOGS, {param: "a\x00b"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field


def test_tenant_by_id_or_slug(api, super_admin, world_a, world_b, seeded):
    client = api(super_admin)
    assert messages(client, tenant=str(world_a.tenant.pk)) == ["Unhandled error", "request"]
    assert messages(client, tenant=world_b.tenant.slug) == ["slow query"]
    assert messages(client, tenant="00000000-0000-0000-0000-000000000000") == []
    assert messages(client, tenant="no-such-company") == []
    assert messages(client, tenant=world_a.tenant.slug, level="ERROR") == ["Unhandled error"]


def test_super_admin_reads_every_field_camel_cased(api, super_admin, world_a, seeded):
    data = api(super_admin).get(LOGS, {"requestId": "r-22"}).json()["data"]
    row = LogEntry.objects.get(request_id="r-22")
    assert data == [
        {
            "id": str(row.pk),
            "time": "2026-12-01T12:30:00Z",
            "level": "ERROR",
            "logger": "mipos.errors",
            "message": "Unhandled error",
            "requestId": "r-22",
            "tenant": world_a.tenant.schema_name,
            "userId": None,
            "method": "",
            "path": "/api/v1/sales/checkout",
            "status": None,
            "durationMs": None,
            "exceptionType": "KeyError",
            "traceback": "",
            "extra": {},
        }
    ]


@pytest.mark.parametrize("role", ["ADMIN", "MANAGER", "CASHIER"])
def test_every_tenant_role_is_refused(api, world_a, seeded, role):
    response = api(world_a.user(role)).get(LOGS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_anonymous_is_refused(client, seeded):
    response = client.get(LOGS)
    assert response.status_code == 401


def test_query_count_does_not_grow_with_the_page(api, super_admin, seeded):
    client = api(super_admin)
    client.get(LOGS, {"limit": 1})  # warm whatever is cached per process
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(LOGS, {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(LOGS, {"limit": 100}).json()["data"]) == 5
    assert len(many) == len(one)
    with CaptureQueriesContext(connection) as filtered:
        client.get(LOGS, {"limit": 100, "tenant": "acme", "level": "INFO", "search": "e"})
    assert len(filtered) == len(one) + 1  # the company's schema, looked up once


def test_the_console_lists_the_lines_read_only(super_admin, seeded):
    from django.test import Client

    console = Client()
    console.force_login(super_admin)
    listing = console.get("/admin/devtools/logentry/", {"q": "r-22"})
    assert listing.status_code == 200
    assert "/api/v1/sales/checkout" in listing.content.decode()
    row = LogEntry.objects.get(request_id="r-22")
    detail = console.get(f"/admin/devtools/logentry/{row.pk}/change/")
    assert detail.status_code == 200  # a view page: no save button, no delete link
    assert 'name="_save"' not in detail.content.decode()
    assert console.get("/admin/devtools/logentry/add/").status_code == 403
    assert console.post(f"/admin/devtools/logentry/{row.pk}/delete/").status_code == 403
