"""Categories: create, edit (a move takes one tree-wide advisory lock, so two concurrent moves
cannot build a cycle together) and delete."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import connection, transaction

from apps.catalog.models import Category, Product
from apps.catalog.selectors import category_descendant_ids
from apps.catalog.services.common import (
    advisory_xact_lock,
    conflict,
    created,
    in_use_error,
    name_clean,
    referenced,
)
from apps.core.db import (
    UNSET,
    Unset,
    insert_or_conflict,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
)
from apps.core.errors import BusinessRuleViolation, ErrorCode


def _category_tree_lock() -> None:
    """One writer at a time changes the shape of this tenant's category tree."""
    advisory_xact_lock(f"catalog:{connection.schema_name}:category-tree")


CATEGORY_FIELDS = ("name", "parent_id", "description", "position")


def _guard_no_cycle(category_id, parent_id, *, field: str = "parentId") -> None:
    """Call under the category-tree lock: the check and the move are one step."""
    if parent_id is not None and parent_id in category_descendant_ids(category_id):
        raise BusinessRuleViolation(
            "A category cannot be moved under itself or one of its descendants.",
            code=ErrorCode.CATEGORY_CYCLE,
            details=[{"field": field, "message": "Would create a cycle."}],
        )


def category_create(
    *, actor, name: str, parent_id: UUID | None = None, description: str = "", position: int = 0
) -> Category:
    category = Category(
        name=name_clean(name), parent_id=parent_id, description=description, position=position
    )
    with transaction.atomic():
        referenced(Category, parent_id, "parentId")
        insert_or_conflict(category, conflict=conflict("name"))
        created(category, actor=actor, entity="category", fields=CATEGORY_FIELDS)
    return category


def category_update(
    *,
    actor,
    category_id: UUID,
    name: str | Unset = UNSET,
    parent_id: UUID | Unset | None = UNSET,
    description: str | Unset = UNSET,
    position: int | Unset = UNSET,
) -> Category:
    changes = sent(name=name, parent_id=parent_id, description=description, position=position)
    if "name" in changes:
        changes["name"] = name_clean(changes["name"])

    def lock() -> Category:
        if "parent_id" in changes:
            _category_tree_lock()
        return row_lock(Category.objects.alive(), category_id)

    def guard(category: Category, pending: dict) -> None:
        if "parent_id" in pending:
            referenced(Category, pending["parent_id"], "parentId")
            _guard_no_cycle(category.pk, pending["parent_id"])

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action="category.update",
        entity_type="category",
        conflict=conflict("name"),
        guard=guard,
    )


def category_delete(*, actor, category_id: UUID, reassign_to_id: UUID | None = None) -> Category:
    """Soft delete. Refused while live products or subcategories use it, unless they are moved
    to `reassign_to_id` (which may not be the category itself or under it)."""
    moved: dict[str, Any] = {}

    def lock() -> Category:
        _category_tree_lock()
        return row_lock(Category.objects.alive(), category_id)

    def guard(category: Category) -> None:
        children = Category.objects.alive().filter(parent=category)
        products = Product.objects.alive().filter(category=category)
        moved.update(children=children.count(), products=products.count())
        if not (moved["children"] or moved["products"]):
            return
        if reassign_to_id is None:
            raise in_use_error(
                f"The category has {moved['children']} subcategories and "
                f"{moved['products']} products; name a category to reassign them to."
            )
        if reassign_to_id in category_descendant_ids(category.pk):
            raise BusinessRuleViolation(
                "Cannot reassign to the category itself or one of its descendants.",
                code=ErrorCode.CATEGORY_CYCLE,
            )
        referenced(Category, reassign_to_id, "reassignTo")

    def facts(category: Category) -> dict[str, Any]:
        if moved["children"] or moved["products"]:
            now = category.deleted_at
            Category.objects.alive().filter(parent=category).update(
                parent_id=reassign_to_id, updated_at=now
            )
            Product.objects.alive().filter(category=category).update(
                category_id=reassign_to_id, updated_at=now
            )
        return {"reassigned_to": reassign_to_id, **moved}

    return row_soft_delete(
        lock=lock,
        actor=actor,
        action="category.delete",
        entity_type="category",
        guard=guard,
        facts=facts,
    )
