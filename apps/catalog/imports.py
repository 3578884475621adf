"""Bulk product import: JSON rows, CSV or XLSX. Every row is validated before anything is written;
errors come back as `[{row, field, message}]`. All-or-nothing by default; `partial` keeps the good
rows. Upsert by SKU; a row with `variantSku` adds or updates a variant of that product.

Built for volume: reference data and existing SKUs/barcodes are read once, every check is a set
or dict lookup (linear in rows), rows are written with bulk INSERT/UPDATE in batches, and the whole
import is one audit row. Rows are validated first without the catalogue lock (a rejected file or
a dry run never blocks other writers); the lock covers only the final re-check and the writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog.models import (
    Brand,
    Category,
    Product,
    ProductStatus,
    ProductVariant,
    Unit,
    VariantType,
    VariantTypeValue,
)
from apps.catalog.services import catalogue_lock
from apps.catalog.validation import clean_barcode, clean_sku
from apps.core.errors import ApplicationError, ValidationFailed
from apps.core.events import publish_event
from apps.core.plans import plan_usage_changed
from apps.core.serializers import text_problem
from apps.tenants.limits import PlanResource, current_tenant, plan_limit_guard

MAX_ROWS = 50_000
BATCH = 2_000
MAX_ATTRIBUTES = 10  # per variant row, as `valueIds` of the variant API (the key fits its column)
COLUMNS = (
    "sku", "name", "barcode", "description", "category", "brand", "unit", "status",
    "costPrice", "sellPrice", "taxRate", "trackStock",
    "variantSku", "variantBarcode", "variantPrice", "variantCost", "variantAttributes",
)  # fmt: skip
TRUE, FALSE = {"1", "true", "yes", "y"}, {"0", "false", "no", "n"}


@dataclass
class ImportReport:
    dry_run: bool
    mode: str
    rows: int = 0
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    created_references: dict[str, int] = field(
        default_factory=lambda: {"categories": 0, "brands": 0, "units": 0, "variantValues": 0}
    )
    failed_rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


# --- parsing ------------------------------------------------------------------------------------


def rows_from_upload(name: str, content: bytes) -> list[dict[str, Any]]:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return rows_from_csv(content)
    if lowered.endswith(".xlsx"):
        return rows_from_xlsx(content)
    raise ValidationFailed.for_field("file", "Upload a .csv or .xlsx file.")


def rows_from_csv(content: bytes) -> list[dict[str, Any]]:
    try:
        text = content.decode("utf-8-sig")  # a lone surrogate is no UTF-8: refused here
    except UnicodeDecodeError:
        raise ValidationFailed.for_field("file", "The CSV file must be UTF-8.") from None
    try:
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    except csv.Error as exc:  # a field over the csv module's size limit, and the like
        raise ValidationFailed.for_field("file", f"Not a readable CSV file: {exc}.") from None


def rows_from_xlsx(content: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    # A read-only workbook parses its sheet while the rows are read: a sheet that is no XML
    # (a NUL or a lone surrogate in a cell, which XML cannot carry) fails there, not on load.
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            lines = sheet.iter_rows(values_only=True)
            header = [str(cell).strip() if cell is not None else "" for cell in next(lines, [])]
            return [
                {header[i]: value for i, value in enumerate(line) if i < len(header) and header[i]}
                for line in lines
                if any(value not in (None, "") for value in line)
            ]
        finally:
            workbook.close()
    except Exception:  # openpyxl and its XML parser raise many kinds for a broken file
        raise ValidationFailed.for_field("file", "Not a readable .xlsx workbook.") from None


# --- validation ---------------------------------------------------------------------------------


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _decimal(
    row: dict, key: str, errors: list, row_no: int, *, high=None, places: int = 2
) -> Decimal | None:
    """A non-negative number of at most `places` decimals (costs: 4, prices and rates: 2)."""
    raw = _text(row, key)
    if raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append({"row": row_no, "field": key, "message": "Not a number."})
        return None
    if not value.is_finite() or value < 0 or (high is not None and value > high):
        errors.append({"row": row_no, "field": key, "message": "Out of range."})
        return None
    quantized = value.quantize(Decimal(1).scaleb(-places))
    if quantized != value or abs(quantized) >= Decimal("1e10"):
        errors.append({"row": row_no, "field": key, "message": f"At most {places} decimal places."})
        return None
    return quantized


def _text_problem(value: Any) -> str | None:
    return text_problem(value) if isinstance(value, str) else None


def _printable(key: Any) -> str:
    """A column name fit to echo in an error (a refused one escaped: `name\\x00`)."""
    text = str(key)
    return text.encode("unicode_escape").decode("ascii") if text_problem(text) else text


def _attributes(raw: str, errors: list, row_no: int) -> list[tuple[str, str]]:
    """`Size=M;Color=Red` → [("Size", "M"), ("Color", "Red")]"""
    pairs = []
    for part in filter(None, (chunk.strip() for chunk in raw.split(";"))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            errors.append(
                {
                    "row": row_no,
                    "field": "variantAttributes",
                    "message": "Use Type=Value;Type=Value.",
                }
            )
            return []
        pairs.append((name.strip(), value.strip()))
    if len({name.lower() for name, _ in pairs}) != len(pairs):
        errors.append({"row": row_no, "field": "variantAttributes", "message": "A type twice."})
        return []
    if len(pairs) > MAX_ATTRIBUTES:
        message = f"At most {MAX_ATTRIBUTES} attributes."
        errors.append({"row": row_no, "field": "variantAttributes", "message": message})
        return []
    return pairs


@dataclass
class ParsedRow:
    row_no: int
    fields: dict[str, Any]  # product fields present in the row
    references: dict[str, str]  # category path / brand / unit names
    variant: dict[str, Any] | None
    existing: Product | None = None  # the live product with this SKU
    existing_variant: ProductVariant | None = None  # the live variant with this variant SKU


def _parse_row(row_no: int, row: dict, errors: list) -> ParsedRow | None:
    if not isinstance(row, dict):
        errors.append({"row": row_no, "field": None, "message": "A row must be an object."})
        return None
    # Text PostgreSQL cannot store (NUL, lone surrogates) is refused per row with the message
    # every other endpoint gives, before anything reads the row: a dry run then answers what
    # the import would, instead of the write failing (500).
    refused = len(errors)
    for key, value in row.items():
        problem = _text_problem(key) or _text_problem(value)
        if problem:
            errors.append({"row": row_no, "field": _printable(key), "message": problem})
    if len(errors) > refused:
        return None
    before = len(errors)  # every error from here on refuses the row (partial mode skips it)
    unknown = [key for key in row if key not in COLUMNS]
    for key in unknown:
        errors.append({"row": row_no, "field": str(key), "message": "Unknown column."})
    fields: dict[str, Any] = {}
    for key, target, check in (("sku", "sku", clean_sku), ("barcode", "barcode", clean_barcode)):
        raw = _text(row, key)
        if key == "sku" or raw:
            try:
                fields[target] = check(raw, field=key)
            except ApplicationError as exc:
                errors.append({"row": row_no, "field": key, "message": exc.details[0]["message"]})
    for key in ("name", "description"):
        if _text(row, key):
            fields[key] = _text(row, key)[: 200 if key == "name" else 5000]
    status = _text(row, "status").upper().replace("-", "_").replace(" ", "_")
    if status:
        if status not in ProductStatus.values:
            errors.append({"row": row_no, "field": "status", "message": "Unknown status."})
        fields["status"] = status
    for key, target, high, places in (
        ("costPrice", "cost_price", None, 4),
        ("sellPrice", "sell_price", None, 2),
        ("taxRate", "tax_rate", Decimal("100"), 2),
    ):
        value = _decimal(row, key, errors, row_no, high=high, places=places)
        if value is not None:
            fields[target] = value
    track = _text(row, "trackStock").lower()
    if track:
        if track not in TRUE | FALSE:
            errors.append({"row": row_no, "field": "trackStock", "message": "Use true or false."})
        fields["track_stock"] = track in TRUE
    references = {key: _text(row, key) for key in ("category", "brand", "unit") if _text(row, key)}
    variant = None
    variant_sku = _text(row, "variantSku")
    if variant_sku:
        variant = {}
        try:
            variant["sku"] = clean_sku(variant_sku, field="variantSku")
            variant["barcode"] = clean_barcode(_text(row, "variantBarcode"), field="variantBarcode")
        except ApplicationError as exc:
            errors.append(
                {
                    "row": row_no,
                    "field": exc.details[0]["field"],
                    "message": exc.details[0]["message"],
                }
            )
        variant["price"] = _decimal(row, "variantPrice", errors, row_no)
        variant["cost"] = _decimal(row, "variantCost", errors, row_no, places=4)
        variant["attributes"] = _attributes(_text(row, "variantAttributes"), errors, row_no)
    elif any(_text(row, key) for key in COLUMNS if key.startswith("variant")):
        errors.append({"row": row_no, "field": "variantSku", "message": "Required for a variant."})
    if len(errors) > before:
        return None
    return ParsedRow(row_no=row_no, fields=fields, references=references, variant=variant)


# --- reference resolution -----------------------------------------------------------------------


class References:
    """Category paths ("Drinks/Soft drinks"), brands, units and variant values by name, read once;
    created on demand when `create_missing`."""

    def __init__(self, create_missing: bool, report: ImportReport) -> None:
        self.create_missing = create_missing
        self.report = report
        self.brands = {b.name.lower(): b for b in Brand.objects.alive()}
        self.units = {u.name.lower(): u for u in Unit.objects.alive()}
        for unit in list(self.units.values()):
            self.units.setdefault(unit.abbreviation.lower(), unit)
        self.categories = {(c.parent_id, c.name.lower()): c for c in Category.objects.alive()}
        self.types = {t.name.lower(): t for t in VariantType.objects.alive()}
        self.type_names = {t.pk: t.name for t in self.types.values()}
        self.values = {
            (v.variant_type_id, v.value.lower()): v
            for v in VariantTypeValue.objects.filter(variant_type__deleted_at__isnull=True)
        }

    def _missing(self, kind: str, name: str) -> ApplicationError:
        return ValidationFailed.for_field(kind, f"Unknown {kind} '{name}' (set createMissing).")

    def category(self, path: str) -> Category:
        parent = None
        for name in [part.strip() for part in path.replace(">", "/").split("/") if part.strip()]:
            key = (parent.pk if parent else None, name.lower())
            if key not in self.categories:
                if not self.create_missing:
                    raise self._missing("category", path)
                self.categories[key] = Category.objects.create(name=name[:120], parent=parent)
                self.report.created_references["categories"] += 1
            parent = self.categories[key]
        if parent is None:
            raise self._missing("category", path)
        return parent

    def brand(self, name: str) -> Brand:
        if name.lower() not in self.brands:
            if not self.create_missing:
                raise self._missing("brand", name)
            self.brands[name.lower()] = Brand.objects.create(name=name[:120])
            self.report.created_references["brands"] += 1
        return self.brands[name.lower()]

    def unit(self, name: str) -> Unit:
        if name.lower() not in self.units:
            if not self.create_missing:
                raise self._missing("unit", name)
            unit = Unit.objects.create(name=name[:60], abbreviation=name[:12])
            self.units[name.lower()] = unit
            self.report.created_references["units"] += 1
        return self.units[name.lower()]

    def variant_values(self, pairs: list[tuple[str, str]]) -> list[VariantTypeValue]:
        found = []
        for type_name, value in pairs:
            variant_type = self.types.get(type_name.lower())
            if variant_type is None:
                if not self.create_missing:
                    raise ValidationFailed.for_field(
                        "variantAttributes", f"Unknown variant type '{type_name}'."
                    )
                variant_type = VariantType.objects.create(name=type_name[:60])
                self.types[type_name.lower()] = variant_type
                self.type_names[variant_type.pk] = variant_type.name
            key = (variant_type.pk, value.lower())
            if key not in self.values:
                if not self.create_missing:
                    raise ValidationFailed.for_field(
                        "variantAttributes", f"Unknown value '{value}' of {type_name}."
                    )
                self.values[key] = VariantTypeValue.objects.create(
                    variant_type=variant_type, value=value[:60]
                )
                self.report.created_references["variantValues"] += 1
            found.append(self.values[key])
        return sorted(found, key=lambda v: self.type_names[v.variant_type_id])


# --- the import ---------------------------------------------------------------------------------


def products_bulk_import(
    *,
    actor,
    rows: list[dict[str, Any]],
    dry_run: bool = False,
    mode: str = "all",
    create_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validates every row, then (unless `dry_run`, or errors in `all` mode) writes them.
    In `all` mode any error raises ValidationFailed with every row's errors and writes nothing."""
    if mode not in ("all", "partial"):
        raise ValidationFailed.for_field("mode", "Must be 'all' or 'partial'.")
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed.for_field("rows", "Send at least one row.")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed.for_field("rows", f"At most {MAX_ROWS} rows per import.")
    report = ImportReport(dry_run=dry_run, mode=mode, rows=len(rows))
    parse_errors: list[dict[str, Any]] = []
    parsed = [_parse_row(index, row, parse_errors) for index, row in enumerate(rows, start=2)]
    parsed = [row for row in parsed if row is not None]

    # 1. Validate against the catalogue WITHOUT the catalogue lock: a rejected file or a dry run
    #    never waits for, nor holds up, other catalogue writers. References created to plan
    #    (createMissing) are rolled back here.
    with transaction.atomic():
        plan = _validate(parsed, parse_errors, report, create_missing)
        if dry_run and not (report.errors and mode == "all"):
            _plan_room_guard(plan, actor)  # a dry run tells, too, when the plan has no room
        transaction.set_rollback(True)
    if report.errors and mode == "all":
        raise ImportFailed(report)
    if dry_run:
        _count_plan(plan, report)
        return report

    # 2. Under the lock, only the final check (the catalogue may have changed since) and the
    #    writes: same checks, now against what no other writer can change until commit.
    with transaction.atomic():
        catalogue_lock()
        plan = _validate(parsed, parse_errors, report, create_missing)
        if report.errors and mode == "all":
            transaction.set_rollback(True)
            raise ImportFailed(report)
        _plan_room_guard(plan, actor)
        _write(plan, report, progress)
        if report.products_created:
            plan_usage_changed(PlanResource.PRODUCTS, tenant=current_tenant(actor))
        audit_record(
            action="product.bulk_import",
            entity_type="product",
            entity_id="",
            actor=actor,
            after={
                "rows": report.rows,
                "products_created": report.products_created,
                "products_updated": report.products_updated,
                "variants_created": report.variants_created,
                "variants_updated": report.variants_updated,
                "failed_rows": report.failed_rows,
            },
        )
        publish_event(
            "catalog.imported",
            {
                "productsCreated": report.products_created,
                "productsUpdated": report.products_updated,
            },
        )
    return report


def _plan_room_guard(plan: Plan, actor) -> None:
    """The whole file is refused (422 PLAN_LIMIT_REACHED) when its new products would pass the
    company's plan; updates of existing SKUs do not count."""
    plan_limit_guard(
        resource=PlanResource.PRODUCTS,
        tenant=current_tenant(actor),
        adding=sum(1 for sku in plan.products if sku not in plan.existing),
    )


def _validate(
    parsed: list[ParsedRow], parse_errors: list, report: ImportReport, create_missing: bool
) -> Plan:
    """The rows checked against the catalogue and planned (references resolved, created when
    `create_missing`); every error, the parser's included, lands in `report`. Linear in rows."""
    errors = list(parse_errors)
    report.created_references = {key: 0 for key in report.created_references}
    good = _check_against_catalogue(parsed, errors)
    plan = _plan(good, References(create_missing, report), errors)
    report.errors = sorted(errors, key=lambda e: (e["row"], e["field"] or ""))
    report.failed_rows = len({e["row"] for e in errors})
    return plan


class ImportFailed(ValidationFailed):
    """400 with every row's errors; nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.failed_rows} of {report.rows} rows are invalid; nothing was imported.",
            details=report.errors,
        )
        self.report = report


def _check_against_catalogue(rows: list[ParsedRow], errors: list) -> list[ParsedRow]:
    """Duplicates inside the file, and barcodes/SKUs held by *other* products or variants."""
    product_by_sku = {
        p.sku.upper(): p
        for p in Product.objects.alive().filter(sku__in=[r.fields["sku"] for r in rows])
    } | {
        p.sku.upper(): p
        for p in Product.objects.alive()
        .annotate(code=Upper("sku"))
        .filter(code__in=[r.fields["sku"].upper() for r in rows])
    }
    variant_by_sku = {
        v.sku.upper(): v
        for v in ProductVariant.objects.alive()
        .annotate(code=Upper("sku"))
        .filter(code__in=[r.variant["sku"].upper() for r in rows if r.variant])
    }
    all_skus = {r.fields["sku"].upper() for r in rows} | {
        r.variant["sku"].upper() for r in rows if r.variant
    }
    variant_skus_in_use = {
        code
        for code in ProductVariant.objects.alive()
        .annotate(code=Upper("sku"))
        .filter(code__in=all_skus)
        .values_list("code", flat=True)
    }
    barcodes = [r.fields["barcode"] for r in rows if r.fields.get("barcode")] + [
        r.variant["barcode"] for r in rows if r.variant and r.variant.get("barcode")
    ]
    barcode_owner: dict[str, tuple[str, str]] = {}
    for model, kind in ((Product, "product"), (ProductVariant, "variant")):
        for code, sku in (
            model.objects.alive().filter(barcode__in=barcodes).values_list("barcode", "sku")
        ):
            barcode_owner[code] = (kind, sku.upper())

    good, seen_barcodes, seen_variant_skus, product_rows = [], {}, set(), {}
    named_in_file = {r.fields["sku"].upper() for r in rows if "name" in r.fields}
    skus_in_file = {r.fields["sku"].upper() for r in rows}  # once, not once per variant row
    for row in rows:
        sku = row.fields["sku"].upper()
        before = len(errors)
        row.existing = product_by_sku.get(sku)
        row.existing_variant = None
        if sku in variant_skus_in_use:
            errors.append({"row": row.row_no, "field": "sku", "message": "Used by a variant."})
        barcode = row.fields.get("barcode")
        if barcode:
            owner = barcode_owner.get(barcode)
            if owner and owner != ("product", sku):
                errors.append({"row": row.row_no, "field": "barcode", "message": "Already in use."})
            if seen_barcodes.setdefault(barcode, ("product", sku)) != ("product", sku):
                errors.append(
                    {"row": row.row_no, "field": "barcode", "message": "Twice in the file."}
                )
        if row.variant:
            vsku = row.variant["sku"].upper()
            row.existing_variant = variant_by_sku.get(vsku)
            if vsku in seen_variant_skus:
                errors.append(
                    {"row": row.row_no, "field": "variantSku", "message": "Twice in the file."}
                )
            seen_variant_skus.add(vsku)
            if vsku in product_by_sku or vsku in skus_in_file:
                errors.append(
                    {"row": row.row_no, "field": "variantSku", "message": "Used by a product."}
                )
            if row.existing_variant and (
                row.existing is None or row.existing_variant.product_id != row.existing.pk
            ):
                errors.append(
                    {
                        "row": row.row_no,
                        "field": "variantSku",
                        "message": "Belongs to another product.",
                    }
                )
            vbarcode = row.variant.get("barcode")
            if vbarcode:
                owner = barcode_owner.get(vbarcode)
                if owner and owner != ("variant", vsku):
                    errors.append(
                        {"row": row.row_no, "field": "variantBarcode", "message": "Already in use."}
                    )
                if seen_barcodes.setdefault(vbarcode, ("variant", vsku)) != ("variant", vsku):
                    errors.append(
                        {
                            "row": row.row_no,
                            "field": "variantBarcode",
                            "message": "Twice in the file.",
                        }
                    )
        elif sku in product_rows:
            errors.append({"row": row.row_no, "field": "sku", "message": "Twice in the file."})
        if not row.variant:
            product_rows[sku] = row.row_no
        if row.existing is None and sku not in named_in_file:
            errors.append(
                {"row": row.row_no, "field": "name", "message": "Required for a new product."}
            )
        if len(errors) == before:
            good.append(row)
    return good


@dataclass
class Plan:
    products: dict[str, dict[str, Any]]  # SKU → fields (merged over the file's rows)
    existing: dict[str, Product]
    variants: list[tuple[str, dict[str, Any], ProductVariant | None]]


def _plan(rows: list[ParsedRow], refs: References, errors: list) -> Plan:
    products: dict[str, dict[str, Any]] = {}
    existing: dict[str, Product] = {}
    variants = []
    # live variant combinations of the products being updated: (product id, key) → variant id
    combinations = {
        (product_id, key): variant_id
        for variant_id, product_id, key in ProductVariant.objects.alive()
        .filter(product__in=[r.existing for r in rows if r.existing is not None])
        .values_list("pk", "product_id", "combination_key")
    }
    planned_combinations: set[tuple[str, str]] = set()
    for row in rows:
        sku = row.fields["sku"].upper()
        fields = dict(row.fields)
        try:
            if "category" in row.references:
                fields["category"] = refs.category(row.references["category"])
            if "brand" in row.references:
                fields["brand"] = refs.brand(row.references["brand"])
            if "unit" in row.references:
                fields["unit"] = refs.unit(row.references["unit"])
            values = refs.variant_values(row.variant["attributes"]) if row.variant else None
        except ApplicationError as exc:
            errors.append({"row": row.row_no, **exc.details[0]})
            continue
        if row.variant:
            key = ",".join(sorted(str(v.pk) for v in values))
            holder = row.existing and combinations.get((row.existing.pk, key))
            current = row.existing_variant
            if (sku, key) in planned_combinations or (
                holder and holder != (current and current.pk)
            ):
                errors.append(
                    {
                        "row": row.row_no,
                        "field": "variantAttributes",
                        "message": "The product already has a variant with these values.",
                    }
                )
                continue
            planned_combinations.add((sku, key))
        products.setdefault(sku, {}).update(fields)
        if row.existing is not None:
            existing[sku] = row.existing
        if row.variant:
            variant_fields = {
                "sku": row.variant["sku"],
                "barcode": row.variant.get("barcode"),
                "price": row.variant.get("price"),
                "cost": row.variant.get("cost"),
                "values": values,
                "combination_key": key,
                "name": (" / ".join(v.value for v in values) or "Default")[:200],
            }
            variants.append((sku, variant_fields, row.existing_variant))
    return Plan(products=products, existing=existing, variants=variants)


def _count_plan(plan: Plan, report: ImportReport) -> None:
    report.products_created = sum(1 for sku in plan.products if sku not in plan.existing)
    report.products_updated = len(plan.existing)
    report.variants_created = sum(1 for _, _, current in plan.variants if current is None)
    report.variants_updated = sum(1 for _, _, current in plan.variants if current is not None)


def _batches(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(plan: Plan, report: ImportReport, progress) -> None:
    now = timezone.now()
    total = len(plan.products) + len(plan.variants)
    done = 0
    to_create, to_update, update_fields = [], [], set()
    for sku, fields in plan.products.items():
        current = plan.existing.get(sku)
        if current is None:
            to_create.append(Product(**{**fields, "created_at": now}))
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            current.updated_at = now
            update_fields |= set(fields) | {"updated_at"}
            to_update.append(current)
    for batch in _batches(to_create):
        Product.objects.bulk_create(batch)
        done += len(batch)
        if progress:
            progress(done, total)
    update_fields.discard("sku")
    for batch in _batches(to_update):
        Product.objects.bulk_update(batch, [f for f in update_fields if f in _PRODUCT_COLUMNS])
        done += len(batch)
        if progress:
            progress(done, total)
    report.products_created, report.products_updated = len(to_create), len(to_update)

    by_sku = {p.sku.upper(): p for p in [*to_create, *to_update]}
    new_variants, changed_variants, links = [], [], []
    for sku, fields, current in plan.variants:
        values = fields.pop("values")
        if current is None:
            variant = ProductVariant(product=by_sku[sku], created_at=now, **fields)
            new_variants.append(variant)
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            current.updated_at = now
            variant = current
            changed_variants.append(current)
        links.append((variant, values))
    for batch in _batches(new_variants):
        ProductVariant.objects.bulk_create(batch)
    for batch in _batches(changed_variants):
        ProductVariant.objects.bulk_update(
            batch, ["barcode", "price", "cost", "combination_key", "name", "updated_at"]
        )
    through = ProductVariant.values.through
    through.objects.filter(productvariant_id__in=[v.pk for v in changed_variants]).delete()
    through.objects.bulk_create(
        [
            through(productvariant_id=variant.pk, varianttypevalue_id=value.pk)
            for variant, values in links
            for value in values
        ],
        batch_size=BATCH,
    )
    report.variants_created, report.variants_updated = len(new_variants), len(changed_variants)
    if progress:
        progress(total, total)


_PRODUCT_COLUMNS = {
    "name", "barcode", "description", "category", "brand", "unit", "status",
    "cost_price", "sell_price", "tax_rate", "track_stock", "updated_at",
}  # fmt: skip
