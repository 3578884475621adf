"""Writes for the catalogue: categories, brands, units, variant types, products, variants, images.

SKUs and barcodes are unique per company across products *and* variants among live rows. Each
table has its own unique index; across the two tables, writers take a transaction-level advisory
lock per code (in sorted order) before checking, so two concurrent writers cannot both pass.

Reference rows (categories, brands, units, variant types) are locked `FOR UPDATE` by their delete
and `FOR SHARE` by a writer that points a product or variant at them, so "in use?" is decided
under the lock: a product cannot be attached to a brand while it is being deleted. Category moves
take one tree-wide advisory lock, so two concurrent moves cannot build a cycle together.

One module per use case: `categories`, `reference_data` (brands, units, variant types),
`products`, `variants`, `images`, `costs` (purchase receipts); `common` holds what they share (the
errors, the advisory locks on codes and on the catalogue, referenced rows share-locked)."""

from apps.catalog.services.categories import (
    CATEGORY_FIELDS,
    category_create,
    category_delete,
    category_update,
)
from apps.catalog.services.common import catalogue_lock, codes_lock, live_codes
from apps.catalog.services.costs import CostKey, product_costs_lock, product_costs_set
from apps.catalog.services.images import product_image_add
from apps.catalog.services.products import (
    PRODUCT_FIELDS,
    product_create,
    product_delete,
    product_update,
)
from apps.catalog.services.reference_data import (
    brand_create,
    brand_delete,
    brand_update,
    unit_create,
    unit_delete,
    unit_update,
    variant_type_create,
    variant_type_delete,
    variant_type_update,
)
from apps.catalog.services.variants import (
    VARIANT_FIELDS,
    variant_create,
    variant_delete,
    variant_update,
)

__all__ = [
    "CATEGORY_FIELDS",
    "PRODUCT_FIELDS",
    "VARIANT_FIELDS",
    "CostKey",
    "brand_create",
    "brand_delete",
    "brand_update",
    "catalogue_lock",
    "category_create",
    "category_delete",
    "category_update",
    "codes_lock",
    "live_codes",
    "product_costs_lock",
    "product_costs_set",
    "product_create",
    "product_delete",
    "product_image_add",
    "product_update",
    "unit_create",
    "unit_delete",
    "unit_update",
    "variant_create",
    "variant_delete",
    "variant_type_create",
    "variant_type_delete",
    "variant_type_update",
    "variant_update",
]
