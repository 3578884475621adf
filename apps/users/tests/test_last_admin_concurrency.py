"""Two admins deactivating each other at the same moment, on two real connections: the admin
rows are locked in id order, so exactly one succeeds and the company keeps an active admin."""

from __future__ import annotations

import threading

from django.db import connections

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.core.errors import BusinessRuleViolation
from apps.users.models import User
from apps.users.services import staff_deactivate, user_create
from conftest import PASSWORD


def test_concurrent_mutual_deactivation_leaves_one_admin(worlds, django_db_blocker):
    world = worlds["a"]
    with django_db_blocker.unblock():
        second = user_create(
            email="second-admin@acme.test",
            password=PASSWORD,
            name="Second",
            role="ADMIN",
            tenant=world.tenant,
        )
    first = world.admin
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def deactivate(name: str, actor_id, target_id) -> None:
        try:
            actor = User.objects.select_related("tenant").get(pk=actor_id)
            target = User.objects.select_related("tenant").get(pk=target_id)
            barrier.wait()
            staff_deactivate(actor=actor, user_id=target.pk)
            outcomes[name] = "done"
        except BusinessRuleViolation as exc:
            outcomes[name] = exc.code
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        try:
            threads = [
                threading.Thread(target=deactivate, args=("first", first.pk, second.pk)),
                threading.Thread(target=deactivate, args=("second", second.pk, first.pk)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes.values()) == ["LAST_ADMIN", "done"]
            active = User.objects.filter(pk__in=[first.pk, second.pk], is_active=True).count()
            assert active == 1
        finally:
            with audit_maintenance():
                AuditLog.objects.filter(entity_id__in=[str(first.pk), str(second.pk)]).filter(
                    action__in=["user.create", "user.deactivate"]
                ).delete()
                AuditLog.objects.filter(actor=second).delete()
                User.objects.filter(pk=first.pk).update(is_active=True, token_version=0)
                second.delete()
