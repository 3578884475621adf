"""Variants of a product: create, edit and soft delete. A variant's values (one per type) name a
combination no other live variant of the product has, and its SKU and barcode are free like a
product's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.catalog.events import product_changed
from apps.catalog.models import Product, ProductVariant, VariantType, VariantTypeValue
from apps.catalog.services.common import conflict, ensure_codes_free, referenced
from apps.catalog.validation import clean_barcode, clean_sku
from apps.core.db import (
    UNSET,
    Unset,
    insert_or_conflict,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
)
from apps.core.errors import ValidationFailed
from apps.core.validation import validate_range

VARIANT_FIELDS = ("name", "sku", "barcode", "price", "cost", "combination_key")


def _variant_values(value_ids: list) -> list[VariantTypeValue]:
    """The values (one per type), their types share-locked so that none can be deleted or lose a
    value before this variant commits."""
    values = list(
        VariantTypeValue.objects.select_related("variant_type")
        .filter(pk__in=value_ids, variant_type__deleted_at__isnull=True)
        .order_by("variant_type__name")
    )
    if len(values) != len(set(value_ids)):
        raise ValidationFailed.for_field("valueIds", "Unknown variant value.")
    types = [value.variant_type_id for value in values]
    if len(set(types)) != len(types):
        raise ValidationFailed.for_field("valueIds", "At most one value per variant type.")
    for type_id in sorted(types):
        referenced(VariantType, type_id, "valueIds")
    return values


def _combination(values: list[VariantTypeValue]) -> tuple[str, str]:
    key = ",".join(sorted(str(value.pk) for value in values))
    name = " / ".join(value.value for value in values) or "Default"
    return key, name


def _clean_variant(changes: dict[str, Any]) -> dict[str, Any]:
    if "sku" in changes:
        changes["sku"] = clean_sku(changes["sku"])
    if "barcode" in changes:
        changes["barcode"] = clean_barcode(changes["barcode"])
    for field in ("price", "cost"):
        if changes.get(field) is not None:
            validate_range(changes[field], field=field, low=Decimal("0"))
    return changes


def _ensure_combination_free(product_id, key: str, variant_id=None) -> None:
    taken = ProductVariant.objects.alive().filter(product_id=product_id, combination_key=key)
    if variant_id:
        taken = taken.exclude(pk=variant_id)
    if taken.exists():
        raise conflict("valueIds", "This product already has a variant with these values.")


def variant_create(
    *,
    actor,
    product_id: UUID,
    sku: str,
    value_ids: list[UUID],
    barcode: str | None = None,
    price: Decimal | None = None,
    cost: Decimal | None = None,
) -> ProductVariant:
    fields = _clean_variant({"sku": sku, "barcode": barcode, "price": price, "cost": cost})
    with transaction.atomic():
        product = row_lock(Product.objects.alive(), product_id)  # one variant writer per product
        values = _variant_values(value_ids)
        key, name = _combination(values)
        variant = ProductVariant(product=product, name=name, combination_key=key, **fields)
        ensure_codes_free(sku=variant.sku, barcode=variant.barcode)
        _ensure_combination_free(product.pk, key)
        insert_or_conflict(variant, conflict=conflict("sku"))
        variant.values.set(values)
        audit_record(
            action="product.variant.create",
            entity_type="product_variant",
            entity_id=variant.pk,
            actor=actor,
            after={**snapshot(variant, VARIANT_FIELDS), "product_id": product.pk},
        )
        product_changed("product.updated", product)
    return variant


def _variant_lock(variant_id: UUID) -> ProductVariant:
    """The variant's product first (the order every variant writer uses), then the variant."""
    product_id = (
        ProductVariant.objects.alive().filter(pk=variant_id).values_list("product_id", flat=True)
    ).first()
    if product_id is not None:
        row_lock(Product.objects.alive(), product_id)
    return row_lock(ProductVariant.objects.alive().select_related("product"), variant_id)


def variant_update(
    *,
    actor,
    variant_id: UUID,
    sku: str | Unset = UNSET,
    barcode: str | Unset | None = UNSET,
    price: Decimal | Unset | None = UNSET,
    cost: Decimal | Unset | None = UNSET,
    value_ids: list[UUID] | Unset = UNSET,
) -> ProductVariant:
    changes = _clean_variant(sent(sku=sku, barcode=barcode, price=price, cost=cost))
    chosen: list[VariantTypeValue] = []

    def lock() -> ProductVariant:
        variant = _variant_lock(variant_id)
        if value_ids is not UNSET:
            chosen.extend(_variant_values(value_ids))
            changes["combination_key"], changes["name"] = _combination(chosen)
        return variant

    def guard(variant: ProductVariant, pending: dict) -> None:
        ensure_codes_free(
            sku=pending.get("sku"), barcode=pending.get("barcode"), variant_id=variant.pk
        )
        if "combination_key" in pending:
            _ensure_combination_free(variant.product_id, pending["combination_key"], variant.pk)

    def values_set(variant: ProductVariant) -> tuple[dict, dict]:
        if value_ids is not UNSET and "combination_key" in changes:
            variant.values.set(chosen)
        return {}, {}

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action="product.variant.update",
        entity_type="product_variant",
        conflict=conflict("sku"),
        guard=guard,
        related=values_set,
        on_change=lambda variant, _after: product_changed("product.updated", variant.product),
    )


def variant_delete(*, actor, variant_id: UUID) -> ProductVariant:
    return row_soft_delete(
        lock=lambda: _variant_lock(variant_id),
        actor=actor,
        action="product.variant.delete",
        entity_type="product_variant",
        on_change=lambda variant: product_changed("product.updated", variant.product),
    )
