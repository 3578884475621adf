"""Customer groups (a discount for their members): create, edit, delete, by managers and admins
only; a group customers belong to is deleted only when they move to another group or out of any."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils import timezone

from apps.core.db import (
    UNSET,
    Unset,
    live_name_taken,
    row_create,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
)
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.validation import validate_range
from apps.customers.models import Customer, CustomerGroup
from apps.customers.services.common import is_manager, text

GROUP_FIELDS = ("name", "discount_percent")


def _require_manager(actor) -> None:
    """Groups set discounts: a pricing decision, kept from cashiers like the credit limit."""
    if not is_manager(actor):
        raise PermissionDenied("Only managers and admins may manage customer groups.")


def _group_conflict() -> Conflict:
    return Conflict(
        "A customer group with this name already exists.",
        details=[{"field": "name", "message": "Already in use."}],
    )


def _group_clean(changes: dict[str, Any]) -> dict[str, Any]:
    if "name" in changes:
        changes["name"] = text(changes["name"], "name", required=True)
    if "discount_percent" in changes:
        validate_range(changes["discount_percent"], field="discountPercent", low=0, high=100)
    return changes


def _group_name_taken(name: str, *, group_id=None) -> bool:
    return live_name_taken(CustomerGroup.objects.alive(), name, exclude_pk=group_id)


def customer_group_create(*, actor, name: str, discount_percent: Decimal) -> CustomerGroup:
    _require_manager(actor)
    fields = _group_clean({"name": name, "discount_percent": discount_percent})
    if _group_name_taken(fields["name"]):
        raise _group_conflict()
    group = CustomerGroup(**fields)
    return row_create(
        group,
        conflict=_group_conflict(),
        actor=actor,
        action="customer_group.create",
        entity_type="customer_group",
        after=snapshot(group, GROUP_FIELDS),
    )


def customer_group_update(
    *,
    actor,
    group_id: UUID,
    name: str | Unset = UNSET,
    discount_percent: Decimal | Unset = UNSET,
) -> CustomerGroup:
    _require_manager(actor)
    changes = _group_clean(sent(name=name, discount_percent=discount_percent))
    if "name" in changes and _group_name_taken(changes["name"], group_id=group_id):
        raise _group_conflict()
    return row_update(
        lock=lambda: row_lock(CustomerGroup.objects.alive(), group_id),
        changes=changes,
        actor=actor,
        action="customer_group.update",
        entity_type="customer_group",
        conflict=_group_conflict(),
    )


def customer_group_delete(
    *, actor, group_id: UUID, reassign_to: UUID | Unset | None = UNSET
) -> CustomerGroup:
    """Soft delete. While customers belong to the group it is refused (422 IN_USE) unless
    `reassign_to` names another live group (they move there) or is None (they leave the group).
    Both groups are locked (in id order), so no customer joins the deleted one meanwhile."""
    _require_manager(actor)
    if reassign_to == group_id:
        raise ValidationFailed.for_field("reassignTo", "Must be another group.")

    def lock() -> CustomerGroup:
        ids = [group_id] if not reassign_to else [group_id, reassign_to]
        locked = {
            group.pk: group
            for group in CustomerGroup.objects.alive()
            .filter(pk__in=ids)
            .select_for_update()
            .order_by("pk")
        }
        if group_id not in locked:
            raise NotFound()
        if reassign_to and reassign_to not in locked:
            raise ValidationFailed.for_field("reassignTo", "Unknown customer group.")
        return locked[group_id]

    def members():
        return Customer.objects.alive().filter(group_id=group_id)

    def guard(group: CustomerGroup) -> None:
        if reassign_to is UNSET and members().exists():
            raise BusinessRuleViolation(
                "Customers belong to this group: pass reassignTo (another group or none).",
                code=ErrorCode.IN_USE,
                details=[{"field": "reassignTo", "message": "Required while the group is used."}],
            )

    def facts(group: CustomerGroup) -> dict[str, Any]:
        if reassign_to is UNSET:
            return {}
        moved = members().update(group_id=reassign_to, updated_at=timezone.now())
        return {"reassigned": moved, "reassign_to": reassign_to} if moved else {}

    return row_soft_delete(
        lock=lock,
        actor=actor,
        action="customer_group.delete",
        entity_type="customer_group",
        guard=guard,
        facts=facts,
    )
