from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context
from rest_framework.test import APIClient

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.core.idempotency import request_fingerprint
from apps.core.models import IdempotencyRecord
from apps.core.tests.urls import GATES, Gate
from apps.tenants.models import Tenant
from conftest import bearer

URL = "/api/v1/_test/idempotent"
pytestmark = pytest.mark.urls("apps.core.tests.urls")
WAIT = 30  # seconds: an upper bound for events that should happen at once, never a delay

State = IdempotencyRecord.State


def post(client, body, key="key-1", url=URL):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def writes(actor=None) -> int:
    rows = AuditLog.objects.filter(action="test.write")
    return rows.filter(actor=actor).count() if actor else rows.count()


def keys(tenant) -> dict[str, str]:
    with tenant_context(tenant):
        return dict(IdempotencyRecord.objects.values_list("key", "state"))


def snapshot(tenant) -> list[tuple]:
    with tenant_context(tenant):
        return list(
            IdempotencyRecord.objects.order_by("pk").values_list(
                "pk", "key", "state", "fingerprint", "created_at", "response_body"
            )
        )


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
    before = snapshot(world_a.tenant)
    response = post(client, {"amount": "99.00"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert AuditLog.objects.filter(action="test.write").count() == 1
    assert snapshot(world_a.tenant) == before


@pytest.mark.django_db
def test_the_query_string_is_part_of_the_request(api, world_a):
    """Same key and body, other query string: another request (422). The order of parameters
    does not matter; the order of one parameter's repeated values does."""
    client = api(world_a.cashier)
    body = {"amount": "3.00"}
    first = post(client, body, key="query-1", url=f"{URL}?store=S1&tag=a&tag=b")
    reordered = post(client, body, key="query-1", url=f"{URL}?tag=a&store=S1&tag=b")
    assert first.status_code == reordered.status_code == 201
    assert reordered["Idempotent-Replayed"] == "true"
    assert reordered.json() == first.json()
    before = snapshot(world_a.tenant)
    for url in (f"{URL}?store=S2&tag=a&tag=b", f"{URL}?store=S1&tag=b&tag=a", URL):
        refused = post(client, body, key="query-1", url=url)
        assert refused.status_code == 422, url
        assert refused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert snapshot(world_a.tenant) == before
    assert writes() == 1


def test_the_fingerprint_canonicalises_the_query_string():
    def fingerprint(query):
        return request_fingerprint(method="POST", path=URL, query=query, body={"a": 1})

    assert fingerprint({"b": "2", "a": "1"}) == fingerprint({"a": "1", "b": "2"})
    assert fingerprint({"a": "1"}) != fingerprint({"a": "2"})
    assert fingerprint({}) != fingerprint({"a": ""})


def test_the_fingerprint_is_keyed_so_a_pin_in_the_body_cannot_be_tried_back(settings):
    """A checkout may carry an approver's PIN: 10,000 SHA-256 guesses would reveal it from a
    bare hash. Keyed with the secret key, the stored fingerprint says nothing without it."""
    import hashlib

    body = {"approval": {"userId": "u", "pin": "4821"}}
    stored = request_fingerprint(method="POST", path=URL, query={}, body=body)
    bare = hashlib.sha256(
        f'POST\n{URL}\n\n{{"approval":{{"pin":"4821","userId":"u"}}}}'.encode()
    ).hexdigest()
    assert stored != bare
    settings.SECRET_KEY = "another-secret-key-of-at-least-32-bytes!"
    assert request_fingerprint(method="POST", path=URL, query={}, body=body) != stored


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
    assert writes() == 0
    assert keys(world_a.tenant) == {}


@pytest.mark.django_db
def test_a_key_released_between_the_conflict_and_the_lookup_is_claimed_again(api, world_a):
    """The key's first request fails and releases it exactly after our insert hit the unique index
    and before we read the existing row: we claim it again and run (it used to be a 500)."""
    with tenant_context(world_a.tenant):
        IdempotencyRecord.objects.create(
            user_id=world_a.cashier.pk, key="released-1", method="POST", path=URL, fingerprint="0"
        )
    seen = {"conflict": False, "released": False}

    def release_after_conflict(execute, sql, params, many, context):
        if (
            seen["conflict"]
            and not seen["released"]
            and sql.lstrip().upper().startswith("SELECT")
            and IdempotencyRecord._meta.db_table in sql
        ):
            seen["released"] = True
            IdempotencyRecord.objects.filter(key="released-1").delete()
        try:
            return execute(sql, params, many, context)
        except IntegrityError:
            seen["conflict"] = seen["conflict"] or IdempotencyRecord._meta.db_table in sql
            raise

    client = api(world_a.cashier)
    with connection.execute_wrapper(release_after_conflict):
        response = post(client, {"amount": "4.00"}, key="released-1")
    assert seen == {"conflict": True, "released": True}
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert keys(world_a.tenant) == {"released-1": State.COMPLETED}
    assert writes(world_a.cashier) == 1


# --- retention ------------------------------------------------------------------------------------
def _record(tenant, user, key: str, *, created_at: datetime, state=State.COMPLETED) -> None:
    with tenant_context(tenant):
        IdempotencyRecord.objects.create(
            user_id=user.pk,
            key=key,
            method="POST",
            path=URL,
            fingerprint="f",
            state=state,
            created_at=created_at,
        )


@pytest.mark.django_db
def test_the_purge_command_deletes_expired_keys_in_every_tenant(world_a, world_b, settings):
    settings.IDEMPOTENCY_RETENTION_HOURS = 48
    now = timezone.now()
    user_a, user_b = world_a.cashier, world_b.cashier
    _record(world_a.tenant, user_a, "a-old-done", created_at=now - timedelta(hours=49))
    _record(
        world_a.tenant,
        user_a,
        "a-old-abandoned",
        created_at=now - timedelta(hours=48, seconds=1),
        state=State.IN_PROGRESS,
    )
    _record(world_a.tenant, user_a, "a-recent", created_at=now - timedelta(hours=47))
    _record(world_b.tenant, user_b, "b-old", created_at=now - timedelta(hours=72))
    _record(world_b.tenant, user_b, "b-fresh", created_at=now)
    schemas = Tenant.objects.exclude(schema_name=get_public_schema_name()).count()
    out = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("purge_idempotency_keys", stdout=out)
    lines = sorted([f"{world_a.tenant.schema_name}: 2", f"{world_b.tenant.schema_name}: 1"])
    cutoff = (now - timedelta(hours=48)).isoformat()
    assert out.getvalue() == "\n".join(
        [*lines, f"Purged 3 idempotency keys created before {cutoff} from {schemas} tenant "
         "schemas.", ""]
    )  # fmt: skip
    assert keys(world_a.tenant) == {"a-recent": State.COMPLETED}
    assert keys(world_b.tenant) == {"b-fresh": State.COMPLETED}

    out = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("purge_idempotency_keys", "--hours", "46", stdout=out)
    assert out.getvalue().startswith(f"{world_a.tenant.schema_name}: 1\nPurged 1 ")
    assert keys(world_a.tenant) == {}
    assert keys(world_b.tenant) == {"b-fresh": State.COMPLETED}


@pytest.mark.django_db
def test_the_purge_command_reports_a_broken_schema_and_purges_the_others(world_a):
    now = timezone.now()
    _record(world_a.tenant, world_a.cashier, "a-old", created_at=now - timedelta(hours=49))
    Tenant.objects.bulk_create(  # a company row whose schema is missing (no save(): no schema)
        [Tenant(schema_name="t_0_missing", name="Missing", slug="missing-schema")]
    )
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("purge_idempotency_keys", stdout=out, stderr=err)
    assert str(failure.value) == "Could not purge 1 schemas: t_0_missing"
    assert err.getvalue().startswith('t_0_missing: relation "core_idempotencyrecord" does not')
    assert f"{world_a.tenant.schema_name}: 1\n" in out.getvalue()
    assert keys(world_a.tenant) == {}


@pytest.mark.django_db
def test_completed_requests_purge_their_tenants_expired_keys_once_per_window(
    api, world_a, world_b, settings
):
    """No cron: the first completed request of each 10-minute window purges its tenant's expired
    keys; the others in the window do not; other tenants are left to their own requests."""
    settings.IDEMPOTENCY_RETENTION_HOURS = 48
    settings.IDEMPOTENCY_PURGE_INTERVAL_MINUTES = 10
    window = 600
    start = datetime.fromtimestamp(int(timezone.now().timestamp()) // window * window + 1, tz=UTC)
    expired = start - timedelta(hours=49)
    _record(world_a.tenant, world_a.cashier, "a-expired-1", created_at=expired)
    _record(world_a.tenant, world_a.cashier, "a-kept", created_at=start - timedelta(hours=47))
    _record(world_b.tenant, world_b.cashier, "b-expired", created_at=expired)
    with time_machine.travel(start, tick=False) as clock:
        client = api(world_a.cashier)
        assert post(client, {"amount": "1"}, key="k1").status_code == 201
        assert keys(world_a.tenant) == {"a-kept": State.COMPLETED, "k1": State.COMPLETED}
        assert keys(world_b.tenant) == {"b-expired": State.COMPLETED}

        _record(world_a.tenant, world_a.cashier, "a-expired-2", created_at=expired)
        clock.shift(timedelta(minutes=9, seconds=58))  # same window: no second purge
        assert post(client, {"amount": "1"}, key="k2").status_code == 201
        assert keys(world_a.tenant) == {
            "a-kept": State.COMPLETED,
            "a-expired-2": State.COMPLETED,
            "k1": State.COMPLETED,
            "k2": State.COMPLETED,
        }
        clock.shift(timedelta(seconds=1))  # the next window: the next completed request purges
        assert post(client, {"amount": "1"}, key="k3").status_code == 201
        assert keys(world_a.tenant) == {
            "a-kept": State.COMPLETED,
            "k1": State.COMPLETED,
            "k2": State.COMPLETED,
            "k3": State.COMPLETED,
        }
        assert keys(world_b.tenant) == {"b-expired": State.COMPLETED}
    assert writes(world_a.cashier) == 3


# --- concurrency: real connections, one per thread ------------------------------------------------
class Live:
    """Requests of tenant A's cashier on real connections (no test transaction): `start` runs one
    in a thread, `post` one in the test's thread. Cleans up what they committed."""

    def __init__(self, world) -> None:
        self.world = world
        self.auth = bearer(world.cashier)
        self.threads: list[threading.Thread] = []

    def gate(self, name: str) -> Gate:
        GATES[name] = Gate()
        return GATES[name]

    def post(self, body, key):
        return post(APIClient(HTTP_AUTHORIZATION=self.auth), body, key=key)

    def start(self, body, key) -> dict:
        """Runs the request in a thread; `outcome["done"]` is set when it has finished."""
        outcome: dict = {"done": threading.Event()}

        def run() -> None:
            try:
                outcome["response"] = self.post(body, key)
            except Exception as exc:  # reported to the test, which asserts on it
                outcome["error"] = exc
            finally:
                connections.close_all()
                outcome["done"].set()

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()
        return outcome

    def record(self, key) -> IdempotencyRecord:
        with tenant_context(self.world.tenant):
            return IdempotencyRecord.objects.get(key=key)

    def cleanup(self) -> None:
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

        for gate in GATES.values():
            gate.opened.set()
        GATES.clear()
        for thread in self.threads:
            thread.join(WAIT)
        with audit_maintenance():
            AuditLog.objects.filter(action="test.write").delete()
        with tenant_context(self.world.tenant):
            IdempotencyRecord.objects.all().delete()
        OutstandingToken.objects.filter(user=self.world.cashier).delete()
        connection.set_schema_to_public()


@pytest.fixture
def live(worlds, django_db_blocker):
    with django_db_blocker.unblock():
        session = Live(worlds["a"])
        try:
            yield session
        finally:
            session.cleanup()


def test_concurrent_duplicate_is_409_then_replays(live):
    """The second request arrives while the first is inside its view: 409, nothing written."""
    gate = live.gate("dup")
    body = {"amount": "7.50", "gate": "dup"}
    first = live.start(body, "concurrent-1")
    assert gate.entered.wait(WAIT)
    claimed = live.record("concurrent-1")

    second = live.post(body, "concurrent-1")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    fingerprint, created_at = claimed.fingerprint, claimed.created_at
    assert snapshot(live.world.tenant) == [
        (claimed.pk, "concurrent-1", State.IN_PROGRESS, fingerprint, created_at, None)
    ]
    assert writes() == 0  # the first's write is not committed yet; the second wrote nothing

    gate.opened.set()
    assert first["done"].wait(WAIT)
    assert first["response"].status_code == 201
    third = live.post(body, "concurrent-1")
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert third.json() == first["response"].json()
    assert writes(live.world.cashier) == 1


def test_a_running_request_is_never_taken_over_however_old(live):
    """The first request has been running for an hour (far past the old 5-minute takeover): while
    it runs, a duplicate is refused with 409 and changes nothing; the first then completes."""
    gate = live.gate("slow")
    body = {"amount": "8.00", "gate": "slow"}
    first = live.start(body, "slow-1")
    assert gate.entered.wait(WAIT)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    with tenant_context(live.world.tenant):
        assert IdempotencyRecord.objects.filter(key="slow-1").update(created_at=an_hour_ago) == 1
    before = snapshot(live.world.tenant)

    second = live.post(body, "slow-1")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert snapshot(live.world.tenant) == before
    assert (before[0][2], before[0][4]) == (State.IN_PROGRESS, an_hour_ago)
    assert writes() == 0

    gate.opened.set()
    assert first["done"].wait(WAIT)
    assert first["response"].status_code == 201
    record = live.record("slow-1")
    assert record.state == State.COMPLETED
    assert record.response_body["data"] == {
        "entry_id": first["response"].json()["data"]["entryId"],
        "amount": "8.00",
    }
    assert writes(live.world.cashier) == 1


def test_a_key_whose_holder_died_is_taken_over_at_once(live):
    """The first request's connection dies inside its view (a killed worker): PostgreSQL ends its
    session, its transaction and its lock. A retry a moment later — long before any timeout —
    takes the key over and runs once; the dead request wrote nothing."""
    gate = live.gate("crash")
    body = {"amount": "9.00", "gate": "crash"}
    first = live.start(body, "crash-1")
    assert gate.entered.wait(WAIT)
    with connection.cursor() as cursor:  # waits (server side) until the backend has exited
        cursor.execute("SELECT pg_terminate_backend(%s, %s)", [gate.backend_pid, WAIT * 1000])
        assert cursor.fetchone() == (True,)
    assert live.record("crash-1").state == State.IN_PROGRESS  # left behind, nobody running it

    second = live.post(body, "crash-1")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    record = live.record("crash-1")
    assert record.state == State.COMPLETED
    assert record.response_body["data"] == {
        "entry_id": second.json()["data"]["entryId"],
        "amount": "9.00",
    }

    gate.opened.set()
    assert first["done"].wait(WAIT)
    # its connection was gone, nothing committed: an outage as the client sees it, retryable
    assert first["response"].status_code == 503
    assert first["response"].json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    third = live.post(body, "crash-1")
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert third.json() == second.json()
    assert writes(live.world.cashier) == 1
