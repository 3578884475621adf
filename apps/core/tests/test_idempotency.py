from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.core.models import IdempotencyRecord
from conftest import bearer

URL = "/api/v1/_test/idempotent"
pytestmark = pytest.mark.urls("apps.core.tests.urls")


def post(client, body, key="key-1"):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_retry_with_same_key_replays_the_first_response_and_writes_once(api, world_a):
    client = api(world_a.cashier)
    first = post(client, {"amount": "10.00"})
    second = post(client, {"amount": "10.00"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert AuditLog.objects.filter(action="test.write", actor=world_a.cashier).count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422_and_writes_nothing(api, world_a):
    client = api(world_a.cashier)
    post(client, {"amount": "10.00"})
    response = post(client, {"amount": "99.00"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert AuditLog.objects.filter(action="test.write").count() == 1


@pytest.mark.django_db
def test_without_a_key_every_request_runs(api, world_a):
    client = api(world_a.cashier)
    client.post(URL, {"amount": "1"}, format="json")
    client.post(URL, {"amount": "1"}, format="json")
    assert AuditLog.objects.filter(action="test.write").count() == 2


@pytest.mark.django_db
def test_keys_are_per_user_and_stored_in_the_users_tenant(api, world_a, world_b):
    post(api(world_a.cashier), {"amount": "1"})
    other = post(api(world_b.cashier), {"amount": "1"})  # same key, other tenant: independent
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    with tenant_context(world_a.tenant):
        assert IdempotencyRecord.objects.filter(user_id=world_a.cashier.pk).count() == 1
        assert IdempotencyRecord.objects.filter(user_id=world_b.cashier.pk).count() == 0
    with tenant_context(world_b.tenant):
        assert IdempotencyRecord.objects.filter(user_id=world_b.cashier.pk).count() == 1


@pytest.mark.django_db
def test_a_failed_attempt_releases_the_key_and_rolls_back(api, world_a):
    client = api(world_a.cashier)
    failed = post(client, {"amount": "5", "fail": True})
    assert failed.status_code == 500
    assert AuditLog.objects.filter(action="test.write").count() == 0
    retried = post(client, {"amount": "5", "fail": True})  # may be retried: runs again
    assert retried.status_code == 500
    with tenant_context(world_a.tenant):
        assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_an_overlong_key_is_400(api, world_a):
    response = post(api(world_a.cashier), {"amount": "1"}, key="k" * 300)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_concurrent_duplicate_is_409_then_replays(worlds, django_db_blocker):
    """Two real connections: the second request arrives while the first is still running."""
    world = worlds["a"]
    with django_db_blocker.unblock():
        auth = bearer(world.cashier)
    results: dict[str, object] = {}

    def call(name: str, delay: float) -> None:
        time.sleep(delay)
        try:
            client = APIClient(HTTP_AUTHORIZATION=auth)
            results[name] = post(client, {"amount": "7.50", "sleep": 0.6}, key="concurrent-1")
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        try:
            threads = [
                threading.Thread(target=call, args=("first", 0)),
                threading.Thread(target=call, args=("second", 0.2)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert results["first"].status_code == 201
            assert results["second"].status_code == 409
            assert results["second"].json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
            call("third", 0)
            assert results["third"].status_code == 201
            assert results["third"].json() == results["first"].json()
            assert AuditLog.objects.filter(action="test.write", actor=world.cashier).count() == 1
        finally:
            with audit_maintenance():
                AuditLog.objects.filter(action="test.write").delete()
            with tenant_context(world.tenant):
                IdempotencyRecord.objects.all().delete()
            from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

            OutstandingToken.objects.filter(user=world.cashier).delete()
            connection.set_schema_to_public()
