"""Brands, units and variant types: the named reference data products and variants point at.
Create, edit and delete; a delete locks the row `FOR UPDATE`, so "in use?" is decided under the
lock, and a variant type's values in use are not removed."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.catalog.models import Brand, Product, ProductVariant, Unit, VariantType, VariantTypeValue
from apps.catalog.services.common import (
    advisory_xact_lock,
    catalogue_key,
    conflict,
    created,
    in_use_error,
    name_clean,
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
from apps.core.errors import ValidationFailed


def _named_create(model, entity: str, *, actor, **fields):
    fields["name"] = name_clean(fields.get("name", ""))
    instance = model(**fields)
    with transaction.atomic():
        insert_or_conflict(instance, conflict=conflict("name"))
        created(instance, actor=actor, entity=entity, fields=fields)
    return instance


def _named_update(model, entity: str, *, actor, pk, changes: dict, related=None):
    if "name" in changes:
        changes["name"] = name_clean(changes["name"])
    return row_update(
        lock=lambda: row_lock(model.objects.alive(), pk),
        changes=changes,
        actor=actor,
        action=f"{entity}.update",
        entity_type=entity,
        conflict=conflict("name"),
        related=related,
    )


def _named_delete(model, entity: str, *, actor, pk, in_use):
    """Soft delete, refused while `in_use(row)` — decided under the row's lock (and after any
    running bulk import), so nothing can start using it meanwhile."""

    def lock():
        advisory_xact_lock(catalogue_key(), shared=True)
        return row_lock(model.objects.alive(), pk)

    def guard(instance) -> None:
        if in_use(instance):
            raise in_use_error(f"This {entity.replace('_', ' ')} is used by live products.")

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
        abbreviation=name_clean(abbreviation, "abbreviation"),
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
        changes["abbreviation"] = name_clean(changes["abbreviation"], "abbreviation")
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
    wanted = [name_clean(value, "values") for value in values]
    lowered = [value.lower() for value in wanted]
    if len(set(lowered)) != len(lowered):
        raise ValidationFailed.for_field("values", "Values must be unique.")
    existing = {value.value.lower(): value for value in variant_type.values.all()}
    removed = [value.pk for key, value in existing.items() if key not in lowered]
    if removed and _variant_values_in_use(removed):
        raise in_use_error("A removed value is used by live variants.")
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
    variant_type = VariantType(name=name_clean(name))
    with transaction.atomic():
        insert_or_conflict(variant_type, conflict=conflict("name"))
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
