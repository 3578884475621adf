"""What the catalogue writers share: the conflict and in-use errors, the advisory locks (one per
SKU or barcode, shared with the whole-catalogue lock a bulk import takes), the check that a code
is free among live products and variants, the share-lock of a referenced row, and the audit row
of a created one."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models.functions import Upper

from apps.audit.services import audit_record
from apps.catalog.models import Product, ProductVariant
from apps.core.db import advisory_locks, snapshot
from apps.core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from apps.core.validation import validate_text


def conflict(field: str, message: str = "Already in use.") -> Conflict:
    return Conflict(f"{field}: {message}", details=[{"field": field, "message": message}])


def in_use_error(message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, code=ErrorCode.IN_USE)


def catalogue_key() -> str:
    return f"catalog:{connection.schema_name}:*"


def advisory_xact_lock(key: str, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtext(%s))", [key])


def codes_lock(codes: Iterable[str | None]) -> None:
    """Serialises writers of the same SKU/barcode in this tenant until the transaction ends
    (and waits for a running bulk import, which holds the whole catalogue)."""
    keys = {f"catalog:{connection.schema_name}:{code.upper()}" for code in codes if code}
    if not keys:
        return
    advisory_xact_lock(catalogue_key(), shared=True)
    advisory_locks(keys)


def catalogue_lock() -> None:
    """The whole catalogue of this tenant, for a bulk import: one lock instead of thousands."""
    advisory_xact_lock(catalogue_key())


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


def ensure_codes_free(
    *, sku: str | None, barcode: str | None, product_id=None, variant_id=None, prefix: str = ""
) -> None:
    codes_lock([sku, barcode])
    for field, code in (("sku", sku), ("barcode", barcode)):
        if code and _code_taken(field, code, product_id=product_id, variant_id=variant_id):
            raise conflict(prefix + field)


def referenced(model, pk, field: str) -> None:
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


def name_clean(value: str, field: str = "name") -> str:
    return validate_text(value, field=field)


def created(instance, *, actor, entity: str, fields: Iterable[str], action: str = "") -> None:
    audit_record(
        action=action or f"{entity}.create",
        entity_type=entity,
        entity_id=instance.pk,
        actor=actor,
        after=snapshot(instance, fields),
    )


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
