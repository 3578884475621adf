"""Two stores created at the same moment by a company one store short of its plan's limit, on two
real connections: both creators queue on the plan's lock for stores (held first by the test and
seen waiting in `pg_locks`, no sleeping), then exactly one is created and the other is refused
with 422 PLAN_LIMIT_REACHED — it counted the winner's store — and changed nothing."""

from __future__ import annotations

import threading
import time

from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog.tests.test_code_race import _waiting_for
from apps.core.db import advisory_locks
from apps.core.errors import BusinessRuleViolation
from apps.stores.models import Store
from apps.stores.services import store_create
from apps.tenants.models import Package, Tenant

WAIT = 30  # seconds: an upper bound for what should happen at once, never a delay


def test_two_parallel_creates_at_the_limit_one_wins(worlds, django_db_blocker):
    world = worlds["a"]
    outcomes: dict[str, str] = {}
    finished = {code: threading.Event() for code in ("R1", "R2")}

    def create(code: str) -> None:
        try:
            with tenant_context(world.tenant):
                store_create(actor=world.admin, name=f"Race {code}", code=code)
            outcomes[code] = "created"
        except BusinessRuleViolation as refused:
            outcomes[code] = f"{refused.code} usage={refused.details[0]['usage']}"
        finally:
            connections.close_all()
            finished[code].set()

    with django_db_blocker.unblock():
        package = Package.objects.create(name="Race plan", max_stores=3)  # S1, S2 + one
        Tenant.objects.filter(pk=world.tenant.pk).update(package=package)
        threads = [threading.Thread(target=create, args=(code,)) for code in finished]
        try:
            lock_name = f"plan:{world.tenant.pk}:stores"
            with transaction.atomic():
                advisory_locks([lock_name])  # held by this connection until commit
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + WAIT
                while (waiting := _waiting_for(lock_name)) < 2 and time.monotonic() < deadline:
                    pass  # each poll is a round trip to PostgreSQL; bounded by the deadline
                assert waiting == 2  # both creators queue on the plan's lock
                assert outcomes == {}
            assert all(done.wait(WAIT) for done in finished.values())
            assert sorted(outcomes.values()) == ["PLAN_LIMIT_REACHED usage=3", "created"]
            (winner,) = (code for code, outcome in outcomes.items() if outcome == "created")
            with tenant_context(world.tenant):
                assert sorted(Store.objects.alive().values_list("code", flat=True)) == sorted(
                    ["S1", "S2", "W1", winner]
                )
            created = AuditLog.objects.filter(action="store.create", after__code__in=["R1", "R2"])
            assert list(created.values_list("after__code", flat=True)) == [winner]
        finally:
            with tenant_context(world.tenant):
                Store.objects.filter(code__in=["R1", "R2"]).delete()
            with audit_maintenance():
                AuditLog.objects.filter(
                    action="store.create", after__code__in=["R1", "R2"]
                ).delete()
            Tenant.objects.filter(pk=world.tenant.pk).update(package=None)
            package.delete()
            for thread in threads:
                if thread.ident is not None:
                    thread.join(WAIT)
            connection.set_schema_to_public()
