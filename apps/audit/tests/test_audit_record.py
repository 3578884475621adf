from __future__ import annotations

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_record
from apps.core.context import RequestContext, reset_context, set_context

pytestmark = pytest.mark.django_db


def test_records_actor_tenant_request_context_and_changed_fields_only(world_a):
    token = set_context(RequestContext(request_id="req-1", ip="10.0.0.7", user_agent="till/1.0"))
    try:
        with tenant_context(world_a.tenant):
            entry = audit_record(
                action="store.update",
                entity_type="store",
                entity_id="s-1",
                actor=world_a.manager,
                before={"name": "Old", "phone": "1", "password": "x"},
                after={"name": "New", "phone": "1", "password": "y", "api_token": "t"},
            )
    finally:
        reset_context(token)
    entry.refresh_from_db()
    assert entry.tenant_id == world_a.tenant.pk
    assert entry.actor_id == world_a.manager.pk
    assert (entry.ip, entry.user_agent, entry.request_id) == ("10.0.0.7", "till/1.0", "req-1")
    assert entry.before == {"name": "Old"}  # unchanged fields and secrets are not stored
    assert entry.after == {"name": "New"}


def test_audit_row_rolls_back_with_the_change(world_a):
    before = AuditLog.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="x.create", entity_type="x", actor=world_a.admin)
        raise RuntimeError("the change failed")
    assert AuditLog.objects.count() == before


def test_platform_action_has_no_tenant(super_admin):
    entry = audit_record(action="platform.thing", entity_type="tenant", actor=super_admin)
    assert entry.tenant_id is None
