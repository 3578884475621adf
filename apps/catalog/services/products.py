"""Products: create, edit and soft delete. The SKU and barcode are free among live products and
variants (advisory lock per code), and the category, brand and unit are share-locked until the
product commits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.catalog.events import product_changed
from apps.catalog.models import Brand, Category, Product, ProductStatus, ProductVariant, Unit
from apps.catalog.services.common import (
    conflict,
    created,
    ensure_codes_free,
    name_clean,
    referenced,
)
from apps.catalog.validation import clean_barcode, clean_sku
from apps.core.db import (
    UNSET,
    Unset,
    insert_or_conflict,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
)
from apps.core.errors import ValidationFailed
from apps.core.plans import plan_usage_changed
from apps.core.validation import validate_range
from apps.tenants.limits import PlanResource, current_tenant, plan_limit_guard

PRODUCT_FIELDS = (
    "name",
    "sku",
    "barcode",
    "description",
    "category_id",
    "brand_id",
    "unit_id",
    "status",
    "cost_price",
    "sell_price",
    "tax_rate",
    "track_stock",
    "attributes",
)


_REFERENCES = (
    ("category_id", Category, "categoryId"),
    ("brand_id", Brand, "brandId"),
    ("unit_id", Unit, "unitId"),
)


def _clean_product(changes: dict[str, Any]) -> dict[str, Any]:
    if "name" in changes:
        changes["name"] = name_clean(changes["name"])
    if "sku" in changes:
        changes["sku"] = clean_sku(changes["sku"])
    if "barcode" in changes:
        changes["barcode"] = clean_barcode(changes["barcode"])
    for field, name in (("cost_price", "costPrice"), ("sell_price", "sellPrice")):
        if field in changes:
            validate_range(changes[field], field=name, low=Decimal("0"))
    if changes.get("tax_rate") is not None:
        validate_range(changes["tax_rate"], field="taxRate", low=0, high=100)
    if "attributes" in changes and not isinstance(changes["attributes"], dict):
        raise ValidationFailed.for_field("attributes", "Must be an object.")
    return changes


def _references_hold(changes: dict[str, Any]) -> None:
    """Inside the write's transaction: the category, brand and unit named stay alive until it
    commits."""
    for field, model, name in _REFERENCES:
        if field in changes:
            referenced(model, changes[field], name)


def product_create(
    *,
    actor,
    name: str,
    sku: str,
    barcode: str | None = None,
    description: str = "",
    category_id: UUID | None = None,
    brand_id: UUID | None = None,
    unit_id: UUID | None = None,
    status: str = ProductStatus.DRAFT,
    cost_price: Decimal = Decimal("0.00"),
    sell_price: Decimal = Decimal("0.00"),
    tax_rate: Decimal | None = None,
    track_stock: bool = True,
    attributes: dict | None = None,
) -> Product:
    fields = _clean_product(
        {
            "name": name,
            "sku": sku,
            "barcode": barcode,
            "description": description,
            "category_id": category_id,
            "brand_id": brand_id,
            "unit_id": unit_id,
            "status": status,
            "cost_price": cost_price,
            "sell_price": sell_price,
            "tax_rate": tax_rate,
            "track_stock": track_stock,
            "attributes": attributes if attributes is not None else {},
        }
    )
    product = Product(**fields)
    with transaction.atomic():
        _references_hold(fields)
        ensure_codes_free(sku=product.sku, barcode=product.barcode)
        plan_limit_guard(resource=PlanResource.PRODUCTS, tenant=current_tenant(actor))
        insert_or_conflict(product, conflict=conflict("sku"))
        created(product, actor=actor, entity="product", fields=PRODUCT_FIELDS)
        product_changed("product.created", product)
        plan_usage_changed(PlanResource.PRODUCTS, tenant=current_tenant(actor))
    return product


def product_update(
    *,
    actor,
    product_id: UUID,
    name: str | Unset = UNSET,
    sku: str | Unset = UNSET,
    barcode: str | Unset | None = UNSET,
    description: str | Unset = UNSET,
    category_id: UUID | Unset | None = UNSET,
    brand_id: UUID | Unset | None = UNSET,
    unit_id: UUID | Unset | None = UNSET,
    status: str | Unset = UNSET,
    cost_price: Decimal | Unset = UNSET,
    sell_price: Decimal | Unset = UNSET,
    tax_rate: Decimal | Unset | None = UNSET,
    track_stock: bool | Unset = UNSET,
    attributes: dict | Unset = UNSET,
) -> Product:
    changes = _clean_product(
        sent(
            name=name,
            sku=sku,
            barcode=barcode,
            description=description,
            category_id=category_id,
            brand_id=brand_id,
            unit_id=unit_id,
            status=status,
            cost_price=cost_price,
            sell_price=sell_price,
            tax_rate=tax_rate,
            track_stock=track_stock,
            attributes=attributes,
        )
    )

    def guard(product: Product, pending: dict) -> None:
        _references_hold(pending)
        ensure_codes_free(
            sku=pending.get("sku"), barcode=pending.get("barcode"), product_id=product.pk
        )

    return row_update(
        lock=lambda: row_lock(Product.objects.alive(), product_id),
        changes=changes,
        actor=actor,
        action="product.update",
        entity_type="product",
        conflict=conflict("sku"),
        guard=guard,
        on_change=lambda product, _after: product_changed("product.updated", product),
    )


def product_delete(*, actor, product_id: UUID) -> Product:
    """Soft delete (with its variants): history stays, the SKUs and barcodes are free again."""

    def variants_delete(product: Product) -> dict[str, Any]:
        now = product.deleted_at
        deleted = (
            ProductVariant.objects.alive()
            .filter(product=product)
            .update(deleted_at=now, updated_at=now)
        )
        return {"variants_deleted": deleted}

    return row_soft_delete(
        lock=lambda: row_lock(Product.objects.alive(), product_id),
        actor=actor,
        action="product.delete",
        entity_type="product",
        facts=variants_delete,
        on_change=lambda product: _product_deleted(product, actor),
    )


def _product_deleted(product: Product, actor) -> None:
    product_changed("product.deleted", product)
    plan_usage_changed(PlanResource.PRODUCTS, tenant=current_tenant(actor))
