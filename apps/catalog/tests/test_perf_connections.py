"""Kept connections and tenants: requests of two companies in a row, served by Django's own WSGI
handler (as gunicorn calls it, with the request_started/finished signals that keep or close
connections) over ONE kept PostgreSQL connection — persistent (production) or from the pool
(development, Daphne) — each see only their own company's catalogue.

Also: which settings keep connections how."""

from __future__ import annotations

import importlib
import json
import threading

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections, transaction
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.users.tokens import token_pair_issue
from conftest import BARCODES


def _access_tokens(*users) -> list[str]:
    with transaction.atomic():  # issuing records the refresh token: leave nothing behind
        tokens = [token_pair_issue(user=user).access for user in users]
        transaction.set_rollback(True)
    return tokens


def _get(handler: WSGIHandler, path: str, token: str) -> tuple[int, dict]:
    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token}").environ
    status = {}

    def start_response(line, headers, exc_info=None):
        status["code"] = int(line.split()[0])

    result = handler(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished: where a connection is kept or closed
    return status["code"], json.loads(body)


@pytest.mark.parametrize("keeping", ["persistent", "pool"])
def test_a_kept_connection_serves_each_tenant_only_its_own_rows(worlds, django_db_blocker, keeping):
    a, b = worlds["a"], worlds["b"]
    outcome: dict = {}

    def serve() -> None:  # a thread of its own: its own connection, outside the test transaction
        connection = connections["default"]
        settings = {**connection.settings_dict, "CONN_HEALTH_CHECKS": True}
        settings["OPTIONS"] = {**settings["OPTIONS"]}
        if keeping == "pool":
            settings["CONN_MAX_AGE"] = 0
            settings["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 1}
        else:
            settings["CONN_MAX_AGE"] = 600
        connection.settings_dict = settings
        try:
            token_a, token_b = _access_tokens(a.admin, b.admin)
            connection.close()  # start clean: the next request opens the kept connection
            handler = WSGIHandler()
            calls = [
                ("a", "/api/v1/products?limit=100", token_a),
                ("b", "/api/v1/products?limit=100", token_b),
                ("b", f"/api/v1/products/lookup/barcode/{BARCODES['acme'][0]}", token_b),
                ("b", f"/api/v1/products/lookup/barcode/{BARCODES['bravo'][0]}", token_b),
                ("a", f"/api/v1/products/lookup/barcode/{BARCODES['bravo'][0]}", token_a),
                ("a", f"/api/v1/products/{b.product.pk}", token_a),
                ("a", f"/api/v1/products/{a.product.pk}", token_a),
            ]
            results, backends = [], set()
            for who, path, token in calls:
                results.append((who, path, *_get(handler, path, token)))
                if keeping == "persistent":
                    assert connection.connection is not None, "the connection was not kept"
                    backends.add(connection.connection.info.backend_pid)
            outcome["results"] = results
            outcome["backends"] = backends
            if keeping == "pool":
                outcome["opened"] = connection.pool.get_stats()["connections_num"]
        except BaseException as exc:  # reported by the test thread
            outcome["error"] = exc
        finally:
            if keeping == "pool":
                connection.close_pool()
            connection.close()

    with django_db_blocker.unblock():
        thread = threading.Thread(target=serve)
        thread.start()
        thread.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    if keeping == "persistent":
        assert len(outcome["backends"]) == 1  # every request on the same PostgreSQL session
    else:
        assert outcome["opened"] == 1  # the pool's one connection served every request
    listed_a, listed_b, a_code_as_b, b_code_as_b, b_code_as_a, b_product_as_a, a_product = [
        (status, body) for _, _, status, body in outcome["results"]
    ]
    with django_db_blocker.unblock():
        ids_a, ids_b = (_live_product_ids(world) for world in (a, b))
    assert str(a.product.pk) in ids_a and not ids_a & ids_b
    assert listed_a[0] == 200 and {p["id"] for p in listed_a[1]["data"]} == ids_a
    assert listed_b[0] == 200 and {p["id"] for p in listed_b[1]["data"]} == ids_b
    assert a_code_as_b[0] == 404  # A's barcode, asked by B right after A's request
    assert b_code_as_b[0] == 200 and b_code_as_b[1]["data"]["productId"] == str(b.product.pk)
    assert b_code_as_a[0] == 404
    assert b_product_as_a[0] == 404
    assert a_product[0] == 200 and a_product[1]["data"]["id"] == str(a.product.pk)


def _live_product_ids(world) -> set[str]:
    with tenant_context(world.tenant):
        return {str(pk) for pk in Product.objects.alive().values_list("pk", flat=True)}


def _settings_module(name: str, monkeypatch, **env):
    for key in ("DB_CONN_MAX_AGE", "DB_POOL_MAX_SIZE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SECRET_KEY", "settings-test-key-0123456789abcdefghijkl")
    import mipos.settings.base

    importlib.reload(mipos.settings.base)
    module = importlib.import_module(name)
    return importlib.reload(module).DATABASES["default"]


def test_production_keeps_connections_and_development_pools_them(monkeypatch):
    try:
        production = _settings_module("mipos.settings.production", monkeypatch)
        assert production["CONN_MAX_AGE"] == 600 and production["CONN_HEALTH_CHECKS"]
        assert "pool" not in production["OPTIONS"]
        ws = _settings_module("mipos.settings.production", monkeypatch, DB_POOL_MAX_SIZE="6")
        assert ws["CONN_MAX_AGE"] == 0 and ws["OPTIONS"]["pool"]["max_size"] == 6
        dev = _settings_module("mipos.settings.dev", monkeypatch)
        assert dev["CONN_MAX_AGE"] == 0 and dev["OPTIONS"]["pool"]["max_size"] == 8
        # no check per connection taken (a dead pool is closed on its first 503: core.outage)
        assert dev["CONN_HEALTH_CHECKS"] is False and dev["OPTIONS"]["pool"]["timeout"] == 2.0
        assert dev["OPTIONS"]["pool"]["reconnect_timeout"] == 0.5
        off = _settings_module("mipos.settings.production", monkeypatch, DB_CONN_MAX_AGE="0")
        assert off["CONN_MAX_AGE"] == 0 and "pool" not in off["OPTIONS"]
    finally:
        monkeypatch.undo()
        import mipos.settings.base

        importlib.reload(mipos.settings.base)
