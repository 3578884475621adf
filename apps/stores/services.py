"""Writes for stores and warehouses, and staff assignments to them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.db import save_or_conflict
from apps.core.errors import Conflict, ValidationFailed
from apps.core.validation import validate_pattern, validate_timezone
from apps.stores.events import store_changed
from apps.stores.models import Store, StoreAssignment

STORE_FIELDS = ("name", "code", "kind", "address", "phone", "email", "timezone", "receipt_header")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")


def store_snapshot(store: Store) -> dict:
    return {field: getattr(store, field) for field in STORE_FIELDS}


def _clean(changes: dict) -> dict:
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
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise ValidationFailed.for_field("name", "This field may not be blank.")
    return changes


def _duplicate_code() -> Conflict:
    return Conflict(
        "A store with this code already exists.",
        details=[{"field": "code", "message": "Already in use."}],
    )


def _save(store: Store, *, create: bool) -> None:
    save_or_conflict(store, create=create, conflict=_duplicate_code())


def store_create(*, actor, name: str, code: str, **fields) -> Store:
    fields = _clean({"name": name, "code": code, **fields})
    if Store.objects.alive().filter(code=fields["code"]).exists():
        raise _duplicate_code()
    store = Store(**fields)
    with transaction.atomic():
        _save(store, create=True)
        audit_record(
            action="store.create",
            entity_type="store",
            entity_id=store.pk,
            actor=actor,
            after=store_snapshot(store),
        )
        store_changed("store.created", store)
    return store


def store_update(*, actor, store: Store, **changes) -> Store:
    changes = _clean(changes)
    if (
        "code" in changes
        and Store.objects.alive().filter(code=changes["code"]).exclude(pk=store.pk).exists()
    ):
        raise _duplicate_code()
    before = store_snapshot(store)
    for field, value in changes.items():
        setattr(store, field, value)
    with transaction.atomic():
        _save(store, create=False)
        audit_record(
            action="store.update",
            entity_type="store",
            entity_id=store.pk,
            actor=actor,
            before=before,
            after=store_snapshot(store),
        )
        store_changed("store.updated", store)
    return store


def store_delete(*, actor, store: Store) -> Store:
    """Soft delete: the row stays for history, its code is freed, its staff unassigned."""
    with transaction.atomic():
        store.deleted_at = timezone.now()
        store.save(update_fields=["deleted_at", "updated_at"])
        StoreAssignment.objects.filter(store=store).delete()
        audit_record(
            action="store.delete",
            entity_type="store",
            entity_id=store.pk,
            actor=actor,
            before={"deleted": False},
            after={"deleted": True},
        )
        store_changed("store.deleted", store)
    return store


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
