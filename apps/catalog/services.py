"""Writes for the catalogue: categories, brands, units, variant types, products, variants, images.

SKUs and barcodes are unique per company across products *and* variants among live rows. Each
table has its own unique index; across the two tables, writers take a transaction-level advisory
lock per code (in sorted order) before checking, so two concurrent writers cannot both pass.

Reference rows (categories, brands, units, variant types) are locked `FOR UPDATE` by their delete
and `FOR SHARE` by a writer that points a product or variant at them, so "in use?" is decided
under the lock: a product cannot be attached to a brand while it is being deleted. Category moves
take one tree-wide advisory lock, so two concurrent moves cannot build a cycle together."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog.events import product_changed
from apps.catalog.models import (
    Brand,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductVariant,
    Unit,
    VariantType,
    VariantTypeValue,
)
from apps.catalog.selectors import category_descendant_ids
from apps.catalog.validation import clean_barcode, clean_sku
from apps.core.db import (
    UNSET,
    Unset,
    advisory_locks,
    insert_or_conflict,
    row_lock,
    row_soft_delete,
    row_update,
    sent,
    snapshot,
    values_update,
)
from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.validation import validate_range, validate_text
from apps.media.services import image_store
from apps.tenants.limits import PlanResource, current_tenant, plan_limit_guard

# --- shared -------------------------------------------------------------------------------------


def _conflict(field: str, message: str = "Already in use.") -> Conflict:
    return Conflict(f"{field}: {message}", details=[{"field": field, "message": message}])


def _in_use(message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, code=ErrorCode.IN_USE)


def _catalogue_key() -> str:
    return f"catalog:{connection.schema_name}:*"


def _advisory_xact_lock(key: str, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtext(%s))", [key])


def codes_lock(codes: Iterable[str | None]) -> None:
    """Serialises writers of the same SKU/barcode in this tenant until the transaction ends
    (and waits for a running bulk import, which holds the whole catalogue)."""
    keys = {f"catalog:{connection.schema_name}:{code.upper()}" for code in codes if code}
    if not keys:
        return
    _advisory_xact_lock(_catalogue_key(), shared=True)
    advisory_locks(keys)


def catalogue_lock() -> None:
    """The whole catalogue of this tenant, for a bulk import: one lock instead of thousands."""
    _advisory_xact_lock(_catalogue_key())


def _category_tree_lock() -> None:
    """One writer at a time changes the shape of this tenant's category tree."""
    _advisory_xact_lock(f"catalog:{connection.schema_name}:category-tree")


def _code_taken(field: str, code: str, *, product_id=None, variant_id=None) -> bool:
    if field == "sku":
        products = Product.objects.alive().annotate(code=Upper("sku")).filter(code=code.upper())
        variants = (
            ProductVariant.objects.alive().annotate(code=Upper("sku")).filter(code=code.upper())
        )
    else:
        products = Product.objects.alive().filter(barcode=code)
        variants = ProductVariant.objects.alive().filter(barcode=code)
    if product_id:
        products = products.exclude(pk=product_id)
    if variant_id:
        variants = variants.exclude(pk=variant_id)
    return products.exists() or variants.exists()


def _ensure_codes_free(
    *, sku: str | None, barcode: str | None, product_id=None, variant_id=None, prefix: str = ""
) -> None:
    codes_lock([sku, barcode])
    for field, code in (("sku", sku), ("barcode", barcode)):
        if code and _code_taken(field, code, product_id=product_id, variant_id=variant_id):
            raise _conflict(prefix + field)


def _referenced(model, pk, field: str) -> None:
    """`pk` names a live row of `model`, share-locked until the transaction ends so that it cannot
    be deleted before the reference to it commits (400 when unknown or deleted)."""
    if pk is None:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND deleted_at IS NULL FOR SHARE",  # noqa: S608 (table from model meta)
            [pk],
        )
        if cursor.fetchone() is None:
            raise ValidationFailed.for_field(field, f"Unknown {model._meta.verbose_name}.")


def _name(value: str, field: str = "name") -> str:
    return validate_text(value, field=field)


def _created(instance, *, actor, entity: str, fields: Iterable[str], action: str = "") -> None:
    audit_record(
        action=action or f"{entity}.create",
        entity_type=entity,
        entity_id=instance.pk,
        actor=actor,
        after=snapshot(instance, fields),
    )


# --- categories ---------------------------------------------------------------------------------

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
        name=_name(name), parent_id=parent_id, description=description, position=position
    )
    with transaction.atomic():
        _referenced(Category, parent_id, "parentId")
        insert_or_conflict(category, conflict=_conflict("name"))
        _created(category, actor=actor, entity="category", fields=CATEGORY_FIELDS)
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
        changes["name"] = _name(changes["name"])

    def lock() -> Category:
        if "parent_id" in changes:
            _category_tree_lock()
        return row_lock(Category.objects.alive(), category_id)

    def guard(category: Category, pending: dict) -> None:
        if "parent_id" in pending:
            _referenced(Category, pending["parent_id"], "parentId")
            _guard_no_cycle(category.pk, pending["parent_id"])

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action="category.update",
        entity_type="category",
        conflict=_conflict("name"),
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
            raise _in_use(
                f"The category has {moved['children']} subcategories and "
                f"{moved['products']} products; name a category to reassign them to."
            )
        if reassign_to_id in category_descendant_ids(category.pk):
            raise BusinessRuleViolation(
                "Cannot reassign to the category itself or one of its descendants.",
                code=ErrorCode.CATEGORY_CYCLE,
            )
        _referenced(Category, reassign_to_id, "reassignTo")

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


# --- brands, units, variant types: named reference data ----------------------------------------


def _named_create(model, entity: str, *, actor, **fields):
    fields["name"] = _name(fields.get("name", ""))
    instance = model(**fields)
    with transaction.atomic():
        insert_or_conflict(instance, conflict=_conflict("name"))
        _created(instance, actor=actor, entity=entity, fields=fields)
    return instance


def _named_update(model, entity: str, *, actor, pk, changes: dict, related=None):
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    return row_update(
        lock=lambda: row_lock(model.objects.alive(), pk),
        changes=changes,
        actor=actor,
        action=f"{entity}.update",
        entity_type=entity,
        conflict=_conflict("name"),
        related=related,
    )


def _named_delete(model, entity: str, *, actor, pk, in_use):
    """Soft delete, refused while `in_use(row)` — decided under the row's lock (and after any
    running bulk import), so nothing can start using it meanwhile."""

    def lock():
        _advisory_xact_lock(_catalogue_key(), shared=True)
        return row_lock(model.objects.alive(), pk)

    def guard(instance) -> None:
        if in_use(instance):
            raise _in_use(f"This {entity.replace('_', ' ')} is used by live products.")

    return row_soft_delete(
        lock=lock, actor=actor, action=f"{entity}.delete", entity_type=entity, guard=guard
    )


def brand_create(*, actor, name: str, description: str = "") -> Brand:
    return _named_create(Brand, "brand", actor=actor, name=name, description=description)


def brand_update(
    *, actor, brand_id: UUID, name: str | Unset = UNSET, description: str | Unset = UNSET
) -> Brand:
    changes = sent(name=name, description=description)
    return _named_update(Brand, "brand", actor=actor, pk=brand_id, changes=changes)


def brand_delete(*, actor, brand_id: UUID) -> Brand:
    return _named_delete(
        Brand,
        "brand",
        actor=actor,
        pk=brand_id,
        in_use=lambda brand: Product.objects.alive().filter(brand=brand).exists(),
    )


def unit_create(*, actor, name: str, abbreviation: str, allows_fraction: bool = False) -> Unit:
    return _named_create(
        Unit,
        "unit",
        actor=actor,
        name=name,
        abbreviation=_name(abbreviation, "abbreviation"),
        allows_fraction=allows_fraction,
    )


def unit_update(
    *,
    actor,
    unit_id: UUID,
    name: str | Unset = UNSET,
    abbreviation: str | Unset = UNSET,
    allows_fraction: bool | Unset = UNSET,
) -> Unit:
    changes = sent(name=name, abbreviation=abbreviation, allows_fraction=allows_fraction)
    if "abbreviation" in changes:
        changes["abbreviation"] = _name(changes["abbreviation"], "abbreviation")
    return _named_update(Unit, "unit", actor=actor, pk=unit_id, changes=changes)


def unit_delete(*, actor, unit_id: UUID) -> Unit:
    return _named_delete(
        Unit,
        "unit",
        actor=actor,
        pk=unit_id,
        in_use=lambda unit: Product.objects.alive().filter(unit=unit).exists(),
    )


def _variant_values_in_use(value_ids) -> bool:
    return (
        ProductVariant.objects.alive()
        .filter(values__in=value_ids, product__deleted_at__isnull=True)
        .exists()
    )


def _variant_values_set(variant_type: VariantType, values: list[str]) -> list[str]:
    """Makes `values` (in this order) the type's values; removing one in use is refused."""
    wanted = [_name(value, "values") for value in values]
    lowered = [value.lower() for value in wanted]
    if len(set(lowered)) != len(lowered):
        raise ValidationFailed.for_field("values", "Values must be unique.")
    existing = {value.value.lower(): value for value in variant_type.values.all()}
    removed = [value.pk for key, value in existing.items() if key not in lowered]
    if removed and _variant_values_in_use(removed):
        raise _in_use("A removed value is used by live variants.")
    VariantTypeValue.objects.filter(pk__in=removed).delete()
    for position, value in enumerate(wanted):
        current = existing.get(value.lower())
        if current is None:
            VariantTypeValue.objects.create(
                variant_type=variant_type, value=value, position=position
            )
        elif (current.value, current.position) != (value, position):
            current.value, current.position = value, position
            current.save(update_fields=["value", "position"])
    return wanted


def variant_type_create(*, actor, name: str, values: list[str] = ()) -> VariantType:
    variant_type = VariantType(name=_name(name))
    with transaction.atomic():
        insert_or_conflict(variant_type, conflict=_conflict("name"))
        stored = _variant_values_set(variant_type, list(values))
        audit_record(
            action="variant_type.create",
            entity_type="variant_type",
            entity_id=variant_type.pk,
            actor=actor,
            after={"name": variant_type.name, "values": stored},
        )
    return variant_type


def variant_type_update(
    *,
    actor,
    variant_type_id: UUID,
    name: str | Unset = UNSET,
    values: list[str] | Unset = UNSET,
) -> VariantType:
    """Renames the type and/or replaces its values: one change, one audit row."""

    def values_replace(variant_type: VariantType) -> tuple[dict, dict]:
        if values is UNSET:
            return {}, {}
        before = [value.value for value in variant_type.values.all()]
        after = _variant_values_set(variant_type, values)
        return ({"values": before}, {"values": after}) if before != after else ({}, {})

    return _named_update(
        VariantType,
        "variant_type",
        actor=actor,
        pk=variant_type_id,
        changes=sent(name=name),
        related=values_replace,
    )


def variant_type_delete(*, actor, variant_type_id: UUID) -> VariantType:
    return _named_delete(
        VariantType,
        "variant_type",
        actor=actor,
        pk=variant_type_id,
        in_use=lambda variant_type: _variant_values_in_use(
            variant_type.values.values_list("pk", flat=True)
        ),
    )


# --- products -----------------------------------------------------------------------------------

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
        changes["name"] = _name(changes["name"])
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
            _referenced(model, changes[field], name)


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
        _ensure_codes_free(sku=product.sku, barcode=product.barcode)
        plan_limit_guard(resource=PlanResource.PRODUCTS, tenant=current_tenant(actor))
        insert_or_conflict(product, conflict=_conflict("sku"))
        _created(product, actor=actor, entity="product", fields=PRODUCT_FIELDS)
        product_changed("product.created", product)
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
        _ensure_codes_free(
            sku=pending.get("sku"), barcode=pending.get("barcode"), product_id=product.pk
        )

    return row_update(
        lock=lambda: row_lock(Product.objects.alive(), product_id),
        changes=changes,
        actor=actor,
        action="product.update",
        entity_type="product",
        conflict=_conflict("sku"),
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
        on_change=lambda product: product_changed("product.deleted", product),
    )


# --- variants -----------------------------------------------------------------------------------

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
        _referenced(VariantType, type_id, "valueIds")
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
        raise _conflict("valueIds", "This product already has a variant with these values.")


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
        _ensure_codes_free(sku=variant.sku, barcode=variant.barcode)
        _ensure_combination_free(product.pk, key)
        insert_or_conflict(variant, conflict=_conflict("sku"))
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
        _ensure_codes_free(
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
        conflict=_conflict("sku"),
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


# --- images -------------------------------------------------------------------------------------


def product_image_add(*, actor, product_id: UUID, data: bytes) -> ProductImage:
    with transaction.atomic():
        product = row_lock(Product.objects.alive(), product_id)  # positions are per product
        asset = image_store(data=data)
        position = ProductImage.objects.filter(product=product).count()
        image = ProductImage.objects.create(product=product, image_id=asset.pk, position=position)
        audit_record(
            action="product.image.add",
            entity_type="product",
            entity_id=product.pk,
            actor=actor,
            after={
                "image_id": asset.pk,
                "content_type": asset.content_type,
                "byte_size": asset.byte_size,
            },
        )
        product_changed("product.updated", product)
    return image


def live_codes(field: str, codes: Iterable[str]) -> set[str]:
    """Which of `codes` (SKUs upper-cased, or barcodes) live products or variants already use."""
    codes = list(codes)
    if not codes:
        return set()
    if field == "sku":
        wanted = [code.upper() for code in codes]
        found = set()
        for model in (Product, ProductVariant):
            found |= set(
                model.objects.alive()
                .annotate(code=Upper("sku"))
                .filter(code__in=wanted)
                .values_list("code", flat=True)
            )
        return found
    found = set()
    for model in (Product, ProductVariant):
        found |= set(
            model.objects.alive().filter(barcode__in=codes).values_list("barcode", flat=True)
        )
    return found


# --- costs (purchase receipts) --------------------------------------------------------------------
CostKey = tuple[UUID, UUID | None]  # (product, variant or None)


def product_costs_lock(*, items: Iterable[CostKey]) -> dict[CostKey, Decimal]:
    """The current cost of every (product, variant) in `items`, their rows locked (by id:
    products, then variants) until the caller's transaction ends, so two receipts of one product
    average one after the other. A variant without its own cost has its product's. Keys in the
    order of `items` (first occurrence)."""
    items = list(items)
    product_ids = sorted({product_id for product_id, _ in items}, key=lambda pk: pk.int)
    variant_ids = sorted(
        {variant_id for _, variant_id in items if variant_id}, key=lambda pk: pk.int
    )
    products = dict(
        Product.objects.select_for_update()
        .filter(pk__in=product_ids)
        .order_by("pk")
        .values_list("pk", "cost_price")
    )
    variants = {
        pk: (cost, product_id)
        for pk, cost, product_id in ProductVariant.objects.select_for_update()
        .filter(pk__in=variant_ids)
        .order_by("pk")
        .values_list("pk", "cost", "product_id")
    }
    costs = {}
    for product_id, variant_id in items:
        if variant_id:
            cost, owner_id = variants[variant_id]
            costs[(product_id, variant_id)] = cost if cost is not None else products[owner_id]
        else:
            costs[(product_id, None)] = products[product_id]
    return costs


def product_costs_set(*, costs: dict[CostKey, Decimal]) -> None:
    """The new costs (rows locked by `product_costs_lock`), one statement per table (products;
    variants), `updated_at` now; in the caller's transaction. Not audited: the purchase receipt
    records each cost before and after."""
    now = timezone.now()
    products = [(pk, cost) for (pk, variant), cost in costs.items() if variant is None]
    variants = [(variant, cost) for (_, variant), cost in costs.items() if variant is not None]
    values_update("catalog_product", "cost_price", products, updated_at=now)
    values_update("catalog_productvariant", "cost", variants, updated_at=now)
