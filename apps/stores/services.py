"""Writes for stores and warehouses, and staff assignments to them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.core.db import (
    UNSET,
    Unset,
    row_create,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
)
from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import publish_user_access_changed
from apps.core.plans import PlanResource, current_tenant, plan_limit_guard, plan_usage_changed
from apps.core.validation import validate_pattern, validate_text, validate_timezone
from apps.stores.events import store_changed
from apps.stores.models import Store, StoreAssignment, StoreKind


def _plan_resource(kind: str) -> PlanResource:
    return PlanResource.WAREHOUSES if kind == StoreKind.WAREHOUSE else PlanResource.STORES


STORE_FIELDS = ("name", "code", "kind", "address", "phone", "email", "timezone", "receipt_header")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")


def store_snapshot(store: Store) -> dict:
    return snapshot(store, STORE_FIELDS)


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    if "code" in changes:
        changes["code"] = validate_pattern(
            changes["code"].strip().upper(),
            field="code",
            pattern=CODE_PATTERN,
            message="1-20 characters: letters, digits, '-' or '_'.",
        )
    if changes.get("timezone"):
        validate_timezone(changes["timezone"], field="timezone")
    if "name" in changes:
        changes["name"] = validate_text(changes["name"], field="name")
    return changes


def _duplicate_code() -> Conflict:
    return Conflict(
        "A store with this code already exists.",
        details=[{"field": "code", "message": "Already in use."}],
    )


def store_create(
    *,
    actor,
    name: str,
    code: str,
    kind: str = StoreKind.RETAIL,
    address: str = "",
    phone: str = "",
    email: str = "",
    timezone: str = "",
    receipt_header: str = "",
) -> Store:
    fields = _clean(
        {
            "name": name,
            "code": code,
            "kind": kind,
            "address": address,
            "phone": phone,
            "email": email,
            "timezone": timezone,
            "receipt_header": receipt_header,
        }
    )
    if Store.objects.alive().filter(code=fields["code"]).exists():
        raise _duplicate_code()
    store = Store(**fields)
    with transaction.atomic():
        plan_limit_guard(resource=_plan_resource(store.kind), tenant=current_tenant(actor))
        row_create(
            store,
            conflict=_duplicate_code(),
            actor=actor,
            action="store.create",
            entity_type="store",
            after=store_snapshot(store),
        )
        store_changed("store.created", store)
        plan_usage_changed(_plan_resource(store.kind), tenant=current_tenant(actor))
    return store


def store_update(
    *,
    actor,
    store_id: UUID,
    name: str | Unset = UNSET,
    code: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    address: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    email: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
    receipt_header: str | Unset = UNSET,
) -> Store:
    changes = _clean(
        sent(
            name=name,
            code=code,
            kind=kind,
            address=address,
            phone=phone,
            email=email,
            timezone=timezone,
            receipt_header=receipt_header,
        )
    )
    if (
        "code" in changes
        and Store.objects.alive().filter(code=changes["code"]).exclude(pk=store_id).exists()
    ):
        raise _duplicate_code()

    def guard(store: Store, pending: dict[str, Any]) -> None:
        if "kind" in pending:  # a store turned warehouse (or back) counts as the new kind
            plan_limit_guard(resource=_plan_resource(pending["kind"]), tenant=current_tenant(actor))

    return row_update(
        lock=lambda: row_lock(Store.objects.alive(), store_id),
        changes=changes,
        actor=actor,
        action="store.update",
        entity_type="store",
        conflict=_duplicate_code(),
        guard=guard,
        on_change=lambda store, after: _store_updated(store, after, actor),
    )


def _store_updated(store: Store, after: dict[str, Any], actor) -> None:
    store_changed("store.updated", store)
    if "kind" in after:  # counted now as the other kind
        plan_usage_changed(
            PlanResource.STORES, PlanResource.WAREHOUSES, tenant=current_tenant(actor)
        )


def _staff_unassign(store: Store) -> dict[str, Any]:
    assignments = StoreAssignment.objects.filter(store=store)
    for user_id in assignments.values_list("user_id", flat=True):
        publish_user_access_changed(user_id)
    assignments.delete()
    return {}


def store_delete(*, actor, store_id: UUID) -> Store:
    """Soft delete: the row stays for history, its code is freed, its staff unassigned."""
    return row_soft_delete(
        lock=lambda: row_lock(Store.objects.alive(), store_id),
        actor=actor,
        action="store.delete",
        entity_type="store",
        facts=_staff_unassign,
        on_change=lambda store: _store_deleted(store, actor),
    )


def _store_deleted(store: Store, actor) -> None:
    store_changed("store.deleted", store)
    plan_usage_changed(_plan_resource(store.kind), tenant=current_tenant(actor))


def store_assignments_set(*, user_id: UUID, store_ids: Iterable[UUID]) -> list[UUID]:
    """Makes `store_ids` the user's stores (in the current tenant). Unknown ids are a 400.
    Called inside the caller's transaction; the caller audits the change."""
    wanted = set(store_ids)
    found = set(Store.objects.alive().filter(pk__in=wanted).values_list("pk", flat=True))
    missing = wanted - found
    if missing:
        raise ValidationFailed(
            "Unknown stores.",
            details=[
                {"field": "storeIds", "message": f"Unknown store {m}."}
                for m in sorted(map(str, missing))
            ],
        )
    current = set(
        StoreAssignment.objects.filter(user_id=user_id).values_list("store_id", flat=True)
    )
    StoreAssignment.objects.filter(user_id=user_id, store_id__in=current - wanted).delete()
    StoreAssignment.objects.bulk_create(
        [StoreAssignment(user_id=user_id, store_id=store_id) for store_id in wanted - current]
    )
    return sorted(wanted, key=str)
