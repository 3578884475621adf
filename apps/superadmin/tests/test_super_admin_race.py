"""Two super admins deleting each other at the same moment, on two real connections. Each
deletion locks every super-admin row in one id order before touching its target, so the two wait
for each other instead of deadlocking, and both succeed (a third super admin remains).

To make the dangerous interleaving certain rather than likely, a third connection holds the
remaining super admin's row until both deletions are queued behind it (seen in pg_stat_activity):
each has then taken every lock it can, which is where the old "lock the others, then the target"
order deadlocked every time."""

from __future__ import annotations

import threading
import time
import uuid

from django.db import connection, connections, transaction

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.users.models import User
from apps.users.services import super_admin_create, user_soft_delete
from conftest import PASSWORD

# Ids below the session's super admin: each deletion's first lock is its own actor's row,
# the pattern that deadlocked when the guard locked "the others" and then the target.
LOW_IDS = (uuid.UUID(int=1), uuid.UUID(int=2))


def test_super_admins_deleting_each_other_do_not_deadlock(worlds, django_db_blocker):
    with django_db_blocker.unblock():
        root = User.objects.get(email="root@platform.test")
        admins = []
        for index, pk in enumerate(LOW_IDS):
            user = super_admin_create(
                actor=root, email=f"ops{index}@platform.test", password=PASSWORD, name="Ops"
            )
            User.objects.filter(pk=user.pk).update(id=pk)
            admins.append(pk)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    root_held, release_root = threading.Event(), threading.Event()

    def hold_root() -> None:
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=root.pk)
                root_held.set()
                release_root.wait(timeout=30)
        finally:
            connections.close_all()

    def waiting_on_locks() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0]

    def delete(name: str, actor_id, target_id) -> None:
        try:
            actor = User.objects.get(pk=actor_id)
            barrier.wait()
            user_soft_delete(actor=actor, user_id=target_id)
            outcomes[name] = "done"
        except Exception as exc:  # a deadlock surfaces as a database error
            outcomes[name] = type(exc).__name__
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        try:
            holder = threading.Thread(target=hold_root)
            holder.start()
            assert root_held.wait(timeout=10)
            threads = [
                threading.Thread(target=delete, args=("first", admins[0], admins[1])),
                threading.Thread(target=delete, args=("second", admins[1], admins[0])),
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while waiting_on_locks() < 2 and time.monotonic() < deadline:
                time.sleep(0.005)  # polling an observable condition, not timing the race
            release_root.set()
            holder.join()
            for thread in threads:
                thread.join()
            assert outcomes == {"first": "done", "second": "done"}
            assert User.objects.filter(pk__in=admins, deleted_at__isnull=False).count() == 2
            assert User.objects.get(pk=root.pk).is_active
            deletes = AuditLog.objects.filter(
                action="user.delete", entity_id__in=[str(pk) for pk in admins]
            )
            assert deletes.count() == 2
        finally:
            with audit_maintenance():
                AuditLog.objects.filter(entity_id__in=[str(pk) for pk in admins]).delete()
                AuditLog.objects.filter(actor_id__in=admins).delete()
                User.objects.filter(pk__in=admins).delete()
