"""Outages answer 503 or degrade, never 500 (issue 26, defects 1 and 2; apps.core.outage).

The real faults — PostgreSQL killed with -9 and restarted under a checkout burst, Redis killed and
restarted — are run against gunicorn by `bench/faults.py` (make faults). Here: what each request
sees, with a database that is not there and a Redis that hangs up on every connection."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.core import outage
from apps.core.outage import database_unavailable
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import AdjustItem, stock_adjust
from apps.sales.models import Sale
from conftest import PASSWORD

LOGIN = "/api/auth/login"


# --- the database ---------------------------------------------------------------------------------


def run_without_database(script: str) -> subprocess.CompletedProcess:
    """`script` run by a separate Python process (test settings) whose DATABASE_URL points at a
    port where nothing listens."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mipos.settings.test",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=Path(settings.BASE_DIR),
    )


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_without_the_database_requests_answer_503_and_the_outage_is_logged_once():
    """A process whose database refuses connections: the login (an API view) and a signed-in
    list (refused in the tenant-routing middleware, before any view) both answer 503 with
    Retry-After and the error envelope — the first by trying, the next ones at once by the
    breaker; the log has one warning for the outage, no traceback."""
    script = """
import django, json
django.setup()
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken
token = AccessToken()
token["sub"] = "00000000-0000-0000-0000-000000000001"
token["tenant"] = "acme"
client = Client(raise_request_exception=False)  # as a server: the handler answers
answers = []
for _ in range(3):
    r = client.post("/api/auth/login", {"email": "a@example.com", "password": "x"},
                    content_type="application/json")
    answers.append([r.status_code, r.get("Retry-After"), json.loads(r.content)])
    r = client.get("/api/v1/products", HTTP_AUTHORIZATION=f"Bearer {token}")
    answers.append([r.status_code, r.get("Retry-After"), json.loads(r.content)])
live = client.get("/health/live")
print("LIVE", live.status_code)
print("ANSWERS " + json.dumps(answers))
"""
    result = run_without_database(script)
    lines = (result.stdout + result.stderr).splitlines()
    answers = json.loads(next(line for line in lines if line.startswith("ANSWERS "))[8:])
    envelope = {
        "success": False,
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "The database is unavailable. Retry later.",
            "details": [],
        },
    }
    assert answers == [[503, "2", envelope]] * 6
    assert "LIVE 200" in lines  # liveness never asks the database (nor its breaker)
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(e["logger"], e["message"].split(":")[0]) for e in logged] == [
        ("mipos.outage", "database unavailable")
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_errors_of_a_statement_are_not_outages_but_a_dropped_connection_is(world_a):
    """Told apart by what PostgreSQL answered: a statement timeout or a division by zero is the
    request's own (a 500 to fix, or a refusal), a server that hangs up is an outage (503)."""
    other = connections["default"].copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1")
            with pytest.raises(Exception) as timeout:
                cursor.execute("SELECT pg_sleep(1)")
            cursor.execute("SET statement_timeout = 0")
            with pytest.raises(Exception) as division:
                cursor.execute("SELECT 1 / 0")
            with pytest.raises(Exception) as terminated:  # the server ends this session
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        with pytest.raises(Exception) as closed:  # and the next statement finds it gone
            other.cursor().execute("SELECT 1")
    finally:
        other.close()
    assert type(timeout.value).__name__ == "OperationalError"  # 57014: not an outage
    assert not database_unavailable(timeout.value)
    assert not database_unavailable(division.value)
    assert database_unavailable(terminated.value)
    assert database_unavailable(closed.value)


# --- Redis ----------------------------------------------------------------------------------------


class HangingUpRedis:
    """A TCP server in Redis's place that accepts each connection and closes it at once (what a
    client meets when Redis dies under it): counts the connections tried."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def dead_redis():
    server = HangingUpRedis()
    location = f"redis://127.0.0.1:{server.port}/0"
    caches_conf = {
        alias: {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            **({"FALLBACK": "process"} if alias != "shared" else {}),
            "KEY_PREFIX": f"dead:{alias}",
        }
        for alias in ("default", "platform", "shared")
    }
    outage.redis.succeeded()
    try:
        with override_settings(CACHES=caches_conf, REDIS_URL=location):
            yield server
    finally:
        outage.redis.succeeded()  # the next test starts with the breaker closed
        server.close()


@pytest.mark.django_db
def test_with_redis_hanging_up_login_lists_and_checkout_are_served(
    api, client, world_a, dead_redis
):
    with tenant_context(world_a.tenant):
        soap = Product.objects.create(
            name="Soap", sku="SOAP-1", status="ACTIVE", sell_price=Decimal("2.50")
        )
        stock_adjust(
            actor=world_a.admin,
            store_id=world_a.store.pk,
            reason="FOUND",
            items=[AdjustItem(soap.pk, None, Decimal("4"))],
        )
    login = client.post(
        LOGIN, {"email": world_a.cashier.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    cashier = api()
    cashier.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['accessToken']}")
    me = cashier.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["data"]["email"] == world_a.cashier.email
    listed = cashier.get("/api/v1/products", {"search": "Soap"})
    assert listed.status_code == 200
    assert [p["sku"] for p in listed.json()["data"]] == ["SOAP-1"]
    sale = cashier.post(
        "/api/v1/sales/checkout",
        {
            "storeId": str(world_a.store.pk),
            "items": [{"productId": str(soap.pk), "quantity": "3"}],
            "payments": [{"method": "CASH", "amount": "10.00"}],
        },
        format="json",
    )
    assert sale.status_code == 201, sale.content
    assert (sale.json()["data"]["total"], sale.json()["data"]["changeDue"]) == ("7.50", "2.50")
    with tenant_context(world_a.tenant):
        assert Sale.objects.count() == 1
        assert StockLevel.objects.get(product=soap).quantity == Decimal("1")
        assert StockMovement.objects.filter(product=soap).count() == 2
    # One connection was tried; every later cache call of these requests failed fast (breaker).
    assert dead_redis.connections == 1
    assert outage.redis.down


@pytest.mark.django_db
def test_the_breaker_lets_one_call_probe_per_interval_and_closes_when_redis_answers(dead_redis):
    cache = caches["shared"]
    assert cache.get("k") is None and dead_redis.connections == 1
    assert [cache.get("k") for _ in range(50)] == [None] * 50
    assert dead_redis.connections == 1  # no new connection within the interval
    outage.redis._next_probe = 0.0  # the interval has passed: one caller probes
    assert cache.get("k") is None and dead_redis.connections == 2
    assert cache.get("k") is None and dead_redis.connections == 2


@pytest.mark.django_db
def test_with_redis_down_failed_logins_still_lock_the_account_in_this_process(
    client, world_a, dead_redis
):
    with override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=100):
        body = {"email": world_a.admin.email, "password": "wrong-password"}
        assert [client.post(LOGIN, body, format="json").status_code for _ in range(3)] == [401] * 3
        body["password"] = PASSWORD
        refused = client.post(LOGIN, body, format="json")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMITED"


@pytest.mark.django_db
def test_readiness_reports_redis_down_past_the_breaker(client, dead_redis):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "redis": "down"}
