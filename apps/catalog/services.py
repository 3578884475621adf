"""Writes for the catalogue: categories, brands, units, variant types, products, variants, images.

SKUs and barcodes are unique per company across products *and* variants among live rows. Each
table has its own unique index; across the two tables, writers take a transaction-level advisory
lock per code (in sorted order) before checking, so two concurrent writers cannot both pass."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

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
    ProductVariant,
    Unit,
    VariantType,
    VariantTypeValue,
)
from apps.catalog.validation import clean_barcode, clean_sku
from apps.core.db import save_or_conflict
from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.validation import validate_range

# --- shared -------------------------------------------------------------------------------------


def _snapshot(instance, fields: Iterable[str]) -> dict[str, Any]:
    return {field: getattr(instance, field) for field in fields}


def _conflict(field: str, message: str = "Already in use.") -> Conflict:
    return Conflict(f"{field}: {message}", details=[{"field": field, "message": message}])


def _in_use(message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, code=ErrorCode.IN_USE)


def _save_unique(instance, *, field: str, create: bool) -> None:
    save_or_conflict(instance, create=create, conflict=_conflict(field))


def _catalogue_key() -> str:
    return f"catalog:{connection.schema_name}:*"


def codes_lock(codes: Iterable[str | None]) -> None:
    """Serialises writers of the same SKU/barcode in this tenant until the transaction ends
    (and waits for a running bulk import, which holds the whole catalogue)."""
    keys = sorted({f"catalog:{connection.schema_name}:{code.upper()}" for code in codes if code})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", [_catalogue_key()])
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(%s::text[]) AS k ORDER BY k",
            [keys],
        )


def catalogue_lock() -> None:
    """The whole catalogue of this tenant, for a bulk import: one lock instead of thousands."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_catalogue_key()])


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


def _soft_delete(instance, *, actor, entity: str, action: str | None = None, **facts) -> None:
    """Marks `instance` deleted and audits it (call inside the caller's transaction)."""
    instance.deleted_at = timezone.now()
    instance.save(update_fields=["deleted_at", "updated_at"])
    audit_record(
        action=action or f"{entity}.delete",
        entity_type=entity,
        entity_id=instance.pk,
        actor=actor,
        before={"deleted": False},
        after={"deleted": True, **facts},
    )


def _alive(model, pk, field: str):
    if pk is None:
        return None
    obj = model.objects.alive().filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed.for_field(field, f"Unknown {model._meta.verbose_name}.")
    return obj


# --- categories ---------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "parent_id", "description", "position")


def category_descendant_ids(category_id) -> set:
    """The category and everything under it (one query over the company's categories)."""
    children: dict[Any, list] = {}
    for pk, parent_id in Category.objects.alive().values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = {category_id}, [category_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _check_parent(category: Category | None, parent_id) -> None:
    if parent_id is None:
        return
    _alive(Category, parent_id, "parentId")
    if category is not None and parent_id in category_descendant_ids(category.pk):
        raise BusinessRuleViolation(
            "A category cannot be moved under itself or one of its descendants.",
            code=ErrorCode.CATEGORY_CYCLE,
        )


def _name(value: str, field: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.for_field(field, "This field may not be blank.")
    return value


def category_create(
    *, actor, name: str, parent_id=None, description: str = "", position: int = 0
) -> Category:
    _check_parent(None, parent_id)
    category = Category(
        name=_name(name), parent_id=parent_id, description=description, position=position
    )
    with transaction.atomic():
        _save_unique(category, field="name", create=True)
        audit_record(
            action="category.create",
            entity_type="category",
            entity_id=category.pk,
            actor=actor,
            after=_snapshot(category, CATEGORY_FIELDS),
        )
    return category


def category_update(*, actor, category: Category, **changes) -> Category:
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    if "parent_id" in changes:
        _check_parent(category, changes["parent_id"])
    before = _snapshot(category, CATEGORY_FIELDS)
    for field, value in changes.items():
        setattr(category, field, value)
    with transaction.atomic():
        _save_unique(category, field="name", create=False)
        audit_record(
            action="category.update",
            entity_type="category",
            entity_id=category.pk,
            actor=actor,
            before=before,
            after=_snapshot(category, CATEGORY_FIELDS),
        )
    return category


def category_delete(*, actor, category: Category, reassign_to_id=None) -> Category:
    """Soft delete. Refused while live products or subcategories use it, unless they are moved
    to `reassign_to_id` (which may not be the category itself or under it)."""
    with transaction.atomic():
        children = Category.objects.alive().filter(parent=category)
        products = Product.objects.alive().filter(category=category)
        moved = {"children": children.count(), "products": products.count()}
        if moved["children"] or moved["products"]:
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
            _alive(Category, reassign_to_id, "reassignTo")
            children.update(parent_id=reassign_to_id, updated_at=timezone.now())
            products.update(category_id=reassign_to_id, updated_at=timezone.now())
        _soft_delete(
            category, actor=actor, entity="category", reassigned_to=reassign_to_id, **moved
        )
    return category


# --- brands, units, variant types: named reference data ----------------------------------------


def _named_create(model, entity: str, *, actor, **fields):
    fields["name"] = _name(fields.get("name", ""))
    instance = model(**fields)
    with transaction.atomic():
        _save_unique(instance, field="name", create=True)
        audit_record(
            action=f"{entity}.create",
            entity_type=entity,
            entity_id=instance.pk,
            actor=actor,
            after=_snapshot(instance, fields),
        )
    return instance


def _named_update(instance, entity: str, *, actor, **changes):
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    before = _snapshot(instance, changes)
    for field, value in changes.items():
        setattr(instance, field, value)
    with transaction.atomic():
        _save_unique(instance, field="name", create=False)
        audit_record(
            action=f"{entity}.update",
            entity_type=entity,
            entity_id=instance.pk,
            actor=actor,
            before=before,
            after=_snapshot(instance, changes),
        )
    return instance


def _named_delete(instance, entity: str, *, actor, in_use: bool):
    if in_use:
        raise _in_use(f"This {entity.replace('_', ' ')} is used by live products.")
    with transaction.atomic():
        _soft_delete(instance, actor=actor, entity=entity)
    return instance


def brand_create(*, actor, name: str, description: str = "") -> Brand:
    return _named_create(Brand, "brand", actor=actor, name=name, description=description)


def brand_update(*, actor, brand: Brand, **changes) -> Brand:
    return _named_update(brand, "brand", actor=actor, **changes)


def brand_delete(*, actor, brand: Brand) -> Brand:
    in_use = Product.objects.alive().filter(brand=brand).exists()
    return _named_delete(brand, "brand", actor=actor, in_use=in_use)


def unit_create(*, actor, name: str, abbreviation: str, allows_fraction: bool = False) -> Unit:
    return _named_create(
        Unit,
        "unit",
        actor=actor,
        name=name,
        abbreviation=_name(abbreviation, "abbreviation"),
        allows_fraction=allows_fraction,
    )


def unit_update(*, actor, unit: Unit, **changes) -> Unit:
    return _named_update(unit, "unit", actor=actor, **changes)


def unit_delete(*, actor, unit: Unit) -> Unit:
    in_use = Product.objects.alive().filter(unit=unit).exists()
    return _named_delete(unit, "unit", actor=actor, in_use=in_use)


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


def variant_type_create(*, actor, name: str, values: list[str]) -> VariantType:
    with transaction.atomic():
        variant_type = _named_create(VariantType, "variant_type", actor=actor, name=name)
        _variant_values_set(variant_type, values)
    return variant_type


def variant_type_update(*, actor, variant_type: VariantType, values=None, **changes):
    with transaction.atomic():
        before_values = [value.value for value in variant_type.values.all()]
        if changes:
            _named_update(variant_type, "variant_type", actor=actor, **changes)
        if values is not None:
            after_values = _variant_values_set(variant_type, values)
            if after_values != before_values:
                audit_record(
                    action="variant_type.update",
                    entity_type="variant_type",
                    entity_id=variant_type.pk,
                    actor=actor,
                    before={"values": before_values},
                    after={"values": after_values},
                )
    return variant_type


def variant_type_delete(*, actor, variant_type: VariantType) -> VariantType:
    in_use = _variant_values_in_use(variant_type.values.values_list("pk", flat=True))
    return _named_delete(variant_type, "variant_type", actor=actor, in_use=in_use)


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


def _clean_product(changes: dict) -> dict:
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    if "sku" in changes:
        changes["sku"] = clean_sku(changes["sku"])
    if "barcode" in changes:
        changes["barcode"] = clean_barcode(changes["barcode"])
    for field, model, name in (
        ("category_id", Category, "categoryId"),
        ("brand_id", Brand, "brandId"),
        ("unit_id", Unit, "unitId"),
    ):
        if field in changes:
            _alive(model, changes[field], name)
    for field, name in (("cost_price", "costPrice"), ("sell_price", "sellPrice")):
        if field in changes:
            validate_range(changes[field], field=name, low=Decimal("0"))
    if changes.get("tax_rate") is not None:
        validate_range(changes["tax_rate"], field="taxRate", low=0, high=100)
    if "attributes" in changes and not isinstance(changes["attributes"], dict):
        raise ValidationFailed.for_field("attributes", "Must be an object.")
    return changes


def product_create(*, actor, name: str, sku: str, **fields) -> Product:
    fields = _clean_product({"name": name, "sku": sku, **fields})
    product = Product(**fields)
    with transaction.atomic():
        _ensure_codes_free(sku=product.sku, barcode=product.barcode)
        _save_unique(product, field="sku", create=True)
        audit_record(
            action="product.create",
            entity_type="product",
            entity_id=product.pk,
            actor=actor,
            after=_snapshot(product, PRODUCT_FIELDS),
        )
        product_changed("product.created", product)
    return product


def product_update(*, actor, product: Product, **changes) -> Product:
    changes = _clean_product(changes)
    before = _snapshot(product, PRODUCT_FIELDS)
    with transaction.atomic():
        _ensure_codes_free(
            sku=changes.get("sku"), barcode=changes.get("barcode"), product_id=product.pk
        )
        for field, value in changes.items():
            setattr(product, field, value)
        _save_unique(product, field="sku", create=False)
        audit_record(
            action="product.update",
            entity_type="product",
            entity_id=product.pk,
            actor=actor,
            before=before,
            after=_snapshot(product, PRODUCT_FIELDS),
        )
        product_changed("product.updated", product)
    return product


def product_delete(*, actor, product: Product) -> Product:
    """Soft delete (with its variants): history stays, the SKUs and barcodes are free again."""
    with transaction.atomic():
        now = timezone.now()
        variants = (
            ProductVariant.objects.alive()
            .filter(product=product)
            .update(deleted_at=now, updated_at=now)
        )
        _soft_delete(product, actor=actor, entity="product", variants_deleted=variants)
        product_changed("product.deleted", product)
    return product


# --- variants -----------------------------------------------------------------------------------

VARIANT_FIELDS = ("name", "sku", "barcode", "price", "cost", "combination_key")


def _variant_values(value_ids: list) -> list[VariantTypeValue]:
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
    return values


def _combination(values: list[VariantTypeValue]) -> tuple[str, str]:
    key = ",".join(sorted(str(value.pk) for value in values))
    name = " / ".join(value.value for value in values) or "Default"
    return key, name


def _clean_variant(changes: dict) -> dict:
    if "sku" in changes:
        changes["sku"] = clean_sku(changes["sku"])
    if "barcode" in changes:
        changes["barcode"] = clean_barcode(changes["barcode"])
    for field in ("price", "cost"):
        if changes.get(field) is not None:
            validate_range(changes[field], field=field, low=Decimal("0"))
    return changes


def _ensure_combination_free(product: Product, key: str, variant_id=None) -> None:
    taken = ProductVariant.objects.alive().filter(product=product, combination_key=key)
    if variant_id:
        taken = taken.exclude(pk=variant_id)
    if taken.exists():
        raise _conflict("valueIds", "This product already has a variant with these values.")


def variant_create(
    *, actor, product: Product, sku: str, value_ids: list, **fields
) -> ProductVariant:
    fields = _clean_variant({"sku": sku, **fields})
    values = _variant_values(value_ids)
    key, name = _combination(values)
    variant = ProductVariant(product=product, name=name, combination_key=key, **fields)
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()  # one writer per product
        _ensure_codes_free(sku=variant.sku, barcode=variant.barcode)
        _ensure_combination_free(product, key)
        _save_unique(variant, field="sku", create=True)
        variant.values.set(values)
        audit_record(
            action="product.variant.create",
            entity_type="product_variant",
            entity_id=variant.pk,
            actor=actor,
            after={**_snapshot(variant, VARIANT_FIELDS), "product_id": product.pk},
        )
        product_changed("product.updated", product)
    return variant


def variant_update(*, actor, variant: ProductVariant, value_ids=None, **changes) -> ProductVariant:
    changes = _clean_variant(changes)
    before = _snapshot(variant, VARIANT_FIELDS)
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=variant.product_id).first()
        _ensure_codes_free(
            sku=changes.get("sku"), barcode=changes.get("barcode"), variant_id=variant.pk
        )
        values = None
        if value_ids is not None:
            values = _variant_values(value_ids)
            changes["combination_key"], changes["name"] = _combination(values)
            _ensure_combination_free(variant.product, changes["combination_key"], variant.pk)
        for field, value in changes.items():
            setattr(variant, field, value)
        _save_unique(variant, field="sku", create=False)
        if values is not None:
            variant.values.set(values)
        audit_record(
            action="product.variant.update",
            entity_type="product_variant",
            entity_id=variant.pk,
            actor=actor,
            before=before,
            after=_snapshot(variant, VARIANT_FIELDS),
        )
        product_changed("product.updated", variant.product)
    return variant


def variant_delete(*, actor, variant: ProductVariant) -> ProductVariant:
    with transaction.atomic():
        _soft_delete(
            variant, actor=actor, entity="product_variant", action="product.variant.delete"
        )
        product_changed("product.updated", variant.product)
    return variant


# --- images -------------------------------------------------------------------------------------


def product_image_add(*, actor, product: Product, data: bytes) -> ProductImage:
    from apps.media.services import image_store

    with transaction.atomic():
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
