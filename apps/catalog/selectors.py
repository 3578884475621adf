from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce, Upper

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
from apps.core.db import named_rows, qualified_table
from apps.core.errors import NotFound, ValidationFailed
from apps.core.prepared import SchemaPreparedStatement, execute_prepared, numbered_placeholders
from apps.tenants.selectors import tenant_settings_cached


def _get(queryset, pk, label: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} not found.")
    return obj


def category_list() -> QuerySet[Category]:
    return Category.objects.alive()


def category_get(*, category_id) -> Category:
    return _get(category_list(), category_id, "Category")


def category_tree(categories: list[Category]) -> tuple[list[Category], dict]:
    """(roots, children by parent id) of an already-fetched list; a category whose parent is
    not in the list (filtered out by a search) is shown as a root."""
    children: dict = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    known = {category.pk for category in categories}
    roots = [c for c in categories if c.parent_id is None or c.parent_id not in known]
    return roots, children


def brand_list() -> QuerySet[Brand]:
    return Brand.objects.alive()


def unit_list() -> QuerySet[Unit]:
    return Unit.objects.alive()


def variant_type_list() -> QuerySet[VariantType]:
    return VariantType.objects.alive().prefetch_related("values")


def _live_variant_count():
    counted = (
        ProductVariant.objects.alive()
        .filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _image_ids():
    return ArraySubquery(
        ProductImage.objects.filter(product=OuterRef("pk"))
        .order_by("position", "created_at")
        .values("image_id")
    )


@functools.cache
def _product_list_query() -> QuerySet[Product]:
    # Built once per process: resolving the two subquery annotations cost more than the rest of
    # the list's query building. Only ever cloned (`.all()`), never evaluated: it holds no rows
    # and no schema (the SQL is the same for every tenant; search_path picks the tables).
    return (
        Product.objects.alive()
        .select_related("category", "brand", "unit")
        .annotate(variant_count=_live_variant_count(), image_ids=_image_ids())
    )


def product_list() -> QuerySet[Product]:
    """Products with what a list row shows, in one query: category, brand, unit, variant count
    and image ids."""
    return _product_list_query().all()


# A product list page, read as plain rows in ONE query: the ORM compiles only the filtered,
# ordered page of ids (and their count); the columns a row shows are this fixed SQL around it.
# Building model instances (four per row) and compiling the full SELECT with its two correlated
# subqueries through the ORM cost more than everything else in a list request. Ids and money
# arrive as text, as they are sent (numeric(_, 2) prints with its two places), and times as UTC
# text with microseconds: building a UUID, Decimal or datetime per value only to print it again
# cost more than the query (Django's timestamptz loader parses in Python). The names of the
# category, brand and unit are scalar subqueries rather than joins: half the planning time.
# A row is a named tuple of these columns (`named_rows`); `total` is the whole list's count
# (NULL unless asked for).
PRODUCT_ROWS_SQL = """
SELECT p.id::text AS id, p.name, p.sku, p.barcode, p.description,
       p.category_id::text AS category_id,
       (SELECT c.name FROM catalog_category c WHERE c.id = p.category_id) AS category_name,
       p.brand_id::text AS brand_id,
       (SELECT b.name FROM catalog_brand b WHERE b.id = p.brand_id) AS brand_name,
       p.unit_id::text AS unit_id,
       (SELECT u.name FROM catalog_unit u WHERE u.id = p.unit_id) AS unit_name,
       (SELECT u.abbreviation FROM catalog_unit u WHERE u.id = p.unit_id) AS unit_abbreviation,
       p.status, p.cost_price::text AS cost_price, p.sell_price::text AS sell_price,
       p.tax_rate::text AS tax_rate, p.track_stock, p.attributes::text AS attributes,
       (SELECT COUNT(*) FROM catalog_productvariant v
         WHERE v.product_id = p.id AND v.deleted_at IS NULL) AS variant_count,
       ARRAY(SELECT i.image_id::text FROM catalog_productimage i
              WHERE i.product_id = p.id ORDER BY i.position, i.created_at) AS image_ids,
       to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at,
       to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS updated_at,
       {total} AS total
FROM unnest(ARRAY({page})) WITH ORDINALITY AS page(id, position)
JOIN catalog_product p ON p.id = page.id
ORDER BY page.position
"""


class ProductRows:
    """A filtered, ordered `product_list()` queryset, read a page at a time as named tuples of
    PRODUCT_ROWS_SQL's columns (`api.serializers.product_list_data` renders them). What
    PagePagination needs: `count()`, a page by slicing, and `page_with_total()` (the page and the
    count in one query)."""

    def __init__(self, queryset: QuerySet[Product]) -> None:
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice) -> list[tuple]:
        start = page.start or 0
        return self._read(start, page.stop - start, with_total=False)[0]

    def page_with_total(self, offset: int, limit: int) -> tuple[list[tuple], int | None]:
        """The page and the number of rows of the whole queryset (None when the page is empty)."""
        return self._read(offset, limit, with_total=True)

    def _read(self, offset: int, limit: int, *, with_total: bool):
        ids = self.queryset.values_list("pk", flat=True)[offset : offset + limit]
        page_sql, params = ids.query.sql_with_params()
        total_sql = "NULL"
        if with_total:
            counted_sql, counted_params = (
                self.queryset.order_by().values("pk").query.sql_with_params()
            )
            # ORM-compiled SQL with placeholders, never values: the parameters follow.
            total_sql = f"(SELECT COUNT(*) FROM ({counted_sql}) counted)"  # noqa: S608
            params = (*counted_params, *params)  # the count comes first in the statement
        sql = PRODUCT_ROWS_SQL.format(total=total_sql, page=page_sql)
        # prepared: planning it cost about what running it does
        with named_rows(connection.cursor()) as cursor:
            execute_prepared(cursor, sql, params)
            rows = cursor.fetchall()
        return rows, rows[0].total if rows and with_total else None


def product_list_rows(queryset: QuerySet[Product]) -> ProductRows:
    return ProductRows(queryset)


def product_search_order(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Search results by name, case-insensitively. Deliberately not the indexed `name` order:
    walking that index while filtering for a common word scanned most of the catalogue; sorting
    the (trigram-found) matches is fast."""
    return queryset.order_by(Upper("name"), "id")


def product_detail_queryset() -> QuerySet[Product]:
    variants = (
        ProductVariant.objects.alive()
        .prefetch_related(
            Prefetch("values", queryset=VariantTypeValue.objects.select_related("variant_type"))
        )
        .order_by("name")
    )
    return product_list().prefetch_related(Prefetch("variants", queryset=variants))


def product_get(*, product_id, queryset: QuerySet[Product] | None = None) -> Product:
    queryset = queryset if queryset is not None else product_detail_queryset()
    return _get(
        queryset if queryset is not None else product_detail_queryset(), product_id, "Product"
    )


def variant_get(*, product: Product, variant_id) -> ProductVariant:
    return _get(ProductVariant.objects.alive().filter(product=product), variant_id, "Variant")


def product_filter_by_category(queryset: QuerySet[Product], category_id) -> QuerySet[Product]:
    return queryset.filter(category_id__in=category_descendant_ids(category_id))


# The hottest till call, as two small plain queries (a UNION of both took ~1 ms to plan each
# time): the product with this barcode, else the variant with it and its attribute values. Both
# name the same columns: `barcode_lookup` reads either row by name.
PRODUCT_BY_BARCODE = """
SELECT p.id AS product_id, NULL AS variant_id, p.name AS product_name, NULL AS variant_name,
       p.sku, p.sell_price AS price, p.tax_rate, p.status, p.track_stock,
       u.name AS unit_name, u.abbreviation AS unit_abbreviation,
       u.allows_fraction AS unit_allows_fraction, NULL AS attributes
FROM catalog_product p LEFT JOIN catalog_unit u ON u.id = p.unit_id
WHERE p.barcode = %s AND p.deleted_at IS NULL
"""
VARIANT_BY_BARCODE = """
SELECT p.id AS product_id, v.id AS variant_id, p.name AS product_name, v.name AS variant_name,
       v.sku, COALESCE(v.price, p.sell_price) AS price, p.tax_rate, p.status, p.track_stock,
       u.name AS unit_name, u.abbreviation AS unit_abbreviation,
       u.allows_fraction AS unit_allows_fraction,
       (SELECT json_agg(json_build_object('type', t.name, 'value', tv.value) ORDER BY t.name)
          FROM catalog_productvariant_values pv
          JOIN catalog_varianttypevalue tv ON tv.id = pv.varianttypevalue_id
          JOIN catalog_varianttype t ON t.id = tv.variant_type_id
         WHERE pv.productvariant_id = v.id) AS attributes
FROM catalog_productvariant v
JOIN catalog_product p ON p.id = v.product_id
LEFT JOIN catalog_unit u ON u.id = p.unit_id
WHERE v.barcode = %s AND v.deleted_at IS NULL AND p.deleted_at IS NULL
"""


_CATALOG_TABLE = re.compile(r"\b(catalog_[a-z_]+)\b")


def _schema_qualified(sql: str, schema: str) -> str:
    """`sql` with every catalogue table named with its schema (text in, text out: cacheable)."""
    return _CATALOG_TABLE.sub(lambda match: qualified_table(match.group(1), schema), sql)


# Prepared per company schema: parsing and planning these took the server longer than running
# them, on every scan.
_PRODUCT_BY_BARCODE = SchemaPreparedStatement(
    "mipos_barcode_product_v1",
    lambda schema: numbered_placeholders(_schema_qualified(PRODUCT_BY_BARCODE, schema)),
    parameters=1,
    named=True,
)
_VARIANT_BY_BARCODE = SchemaPreparedStatement(
    "mipos_barcode_variant_v1",
    lambda schema: numbered_placeholders(_schema_qualified(VARIANT_BY_BARCODE, schema)),
    parameters=1,
    named=True,
)


def barcode_lookup(*, code: str, tenant) -> dict:
    """What a till needs after a scan: the product or variant, its price, tax and unit."""
    row = _PRODUCT_BY_BARCODE.fetchone([code])
    if row is None:
        row = _VARIANT_BY_BARCODE.fetchone([code])
    if row is None:
        raise NotFound("No product or variant has this barcode.")
    settings = tenant_settings_cached(tenant=tenant)
    tax_rate = row.tax_rate if row.tax_rate is not None else settings.tax_rate
    attributes = row.attributes
    if isinstance(attributes, str):  # json arrives decoded with psycopg 3; be safe either way
        attributes = json.loads(attributes)
    variant_id = row.variant_id
    return {
        "type": "variant" if variant_id else "product",
        "product_id": str(row.product_id),
        "variant_id": str(variant_id) if variant_id else None,
        "name": f"{row.product_name} ({row.variant_name})" if variant_id else row.product_name,
        "product_name": row.product_name,
        "variant_name": row.variant_name,
        "sku": row.sku,
        "barcode": code,
        "price": str(row.price),
        "tax_rate": str(Decimal(tax_rate).quantize(Decimal("0.01"))),
        "prices_include_tax": settings.prices_include_tax,
        "status": row.status,
        "sellable": row.status == "ACTIVE",
        "track_stock": row.track_stock,
        "unit": (
            {
                "name": row.unit_name,
                "abbreviation": row.unit_abbreviation,
                "allows_fraction": row.unit_allows_fraction,
            }
            if row.unit_name is not None
            else None
        ),
        "attributes": attributes or [],
    }


def product_count(tenant=None) -> int:
    """The live products (the plan's PRODUCTS limit; apps.core.plans)."""
    return Product.objects.alive().count()


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


# --- the catalogue as a request's items see it ------------------------------------------------
# One row per requested (product, variant) pair, in the order asked (`n`), with what every writer
# taking items (the checkout, stock changes, transfers, counts, purchases) reads: NULL columns
# where the product or the variant is unknown or deleted. A writer runs it alone or after its own
# statements in the same round trip (inventory's check reads its locations first).
CATALOGUE_ITEMS_SQL = """
SELECT r.n, p.id AS product_id, p.name, p.sku, p.status, p.sell_price AS price,
       p.cost_price AS cost, p.tax_rate, p.track_stock,
       COALESCE(u.allows_fraction, false) AS allows_fraction,
       v.id AS variant_id, v.name AS variant_name, v.sku AS variant_sku, v.price AS variant_price,
       v.cost AS variant_cost, v.product_id AS variant_product,
       EXISTS (SELECT 1 FROM catalog_productvariant x
                WHERE x.product_id = p.id AND x.deleted_at IS NULL) AS has_variants
FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS r (product_id, variant_id, n)
LEFT JOIN catalog_product p ON p.id = r.product_id AND p.deleted_at IS NULL
LEFT JOIN catalog_unit u ON u.id = p.unit_id
LEFT JOIN catalog_productvariant v ON v.id = r.variant_id AND v.deleted_at IS NULL
ORDER BY r.n
"""


class CatalogueItem(NamedTuple):
    """A row of CATALOGUE_ITEMS_SQL, by name."""

    n: int
    product_id: UUID | None
    name: str | None
    sku: str | None
    status: str | None
    price: Decimal | None
    cost: Decimal | None
    tax_rate: Decimal | None  # None: the company's rate
    track_stock: bool | None
    allows_fraction: bool
    variant_id: UUID | None
    variant_name: str | None
    variant_sku: str | None
    variant_price: Decimal | None
    variant_cost: Decimal | None
    variant_product: UUID | None
    has_variants: bool

    @property
    def unit_cost(self) -> Decimal | None:
        return self.variant_cost if self.variant_cost is not None else self.cost


def catalogue_items_params(pairs: Sequence[tuple[UUID, UUID | None]]) -> list[list]:
    """CATALOGUE_ITEMS_SQL's parameters for (product id, variant id or None) pairs."""
    return [[product_id for product_id, _ in pairs], [variant_id for _, variant_id in pairs]]


def catalogue_items_fetch(cursor) -> list[CatalogueItem]:
    """The rows of CATALOGUE_ITEMS_SQL from `cursor`'s current result set."""
    return [CatalogueItem._make(row) for row in cursor.fetchall()]


def catalogue_items(pairs: Sequence[tuple[UUID, UUID | None]]) -> list[CatalogueItem]:
    """CATALOGUE_ITEMS_SQL on its own: one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(CATALOGUE_ITEMS_SQL, catalogue_items_params(pairs))
        return catalogue_items_fetch(cursor)


def catalogue_item_identity_check(
    *, field: str, requested_variant: UUID | None, item: CatalogueItem
) -> None:
    """One request item against what the catalogue holds (400 otherwise): a live product, a
    live variant of it when one is named, and one named when the product has variants."""
    if item.product_id is None:
        raise ValidationFailed.for_field(f"{field}.productId", "Unknown product.")
    if requested_variant is not None:
        if item.variant_id is None or item.variant_product != item.product_id:
            raise ValidationFailed.for_field(
                f"{field}.variantId", "Unknown variant of this product."
            )
    elif item.has_variants:
        raise ValidationFailed.for_field(
            f"{field}.variantId", "This product has variants: name one."
        )
