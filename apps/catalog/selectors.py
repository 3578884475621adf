from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.catalog.models import (
    Brand,
    Category,
    Product,
    ProductVariant,
    Unit,
    VariantType,
    VariantTypeValue,
)
from apps.core.errors import NotFound


def _get(queryset, pk, label: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} not found.")
    return obj


def category_list() -> QuerySet[Category]:
    return Category.objects.alive()


def category_get(*, category_id) -> Category:
    return _get(category_list(), category_id, "Category")


def category_tree(categories: list[Category]) -> list[dict]:
    """Nests an already-fetched flat list: [{…category, "children": [...]}]."""
    nodes = {c.pk: {"category": c, "children": []} for c in categories}
    roots = []
    for category in categories:
        parent = nodes.get(category.parent_id)
        (parent["children"] if parent else roots).append(nodes[category.pk])
    return roots


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


def product_list() -> QuerySet[Product]:
    """Products with what a list row shows: category, brand, unit, images, variant count."""
    return (
        Product.objects.alive()
        .select_related("category", "brand", "unit")
        .prefetch_related("images")
        .annotate(variant_count=_live_variant_count())
    )


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
    from apps.catalog.services import category_descendant_ids

    return queryset.filter(category_id__in=category_descendant_ids(category_id))


def barcode_lookup(*, code: str, tenant) -> dict:
    """What a till needs after a scan: the product or variant, its price, tax and unit."""
    from apps.tenants.selectors import tenant_settings_cached

    product = Product.objects.alive().select_related("unit").filter(barcode=code).first()
    variant = None
    if product is None:
        variant = (
            ProductVariant.objects.alive()
            .select_related("product__unit")
            .prefetch_related(
                Prefetch("values", queryset=VariantTypeValue.objects.select_related("variant_type"))
            )
            .filter(barcode=code, product__deleted_at__isnull=True)
            .first()
        )
        if variant is None:
            raise NotFound("No product or variant has this barcode.")
        product = variant.product
    settings = tenant_settings_cached(tenant=tenant)
    tax_rate = product.tax_rate if product.tax_rate is not None else settings.tax_rate
    unit = product.unit
    return {
        "type": "variant" if variant else "product",
        "product_id": product.pk,
        "variant_id": variant.pk if variant else None,
        "name": f"{product.name} ({variant.name})" if variant else product.name,
        "product_name": product.name,
        "variant_name": variant.name if variant else None,
        "sku": variant.sku if variant else product.sku,
        "barcode": code,
        "price": variant.price if variant and variant.price is not None else product.sell_price,
        "tax_rate": Decimal(tax_rate),
        "prices_include_tax": settings.prices_include_tax,
        "status": product.status,
        "sellable": product.status == "ACTIVE",
        "track_stock": product.track_stock,
        "unit": (
            {
                "name": unit.name,
                "abbreviation": unit.abbreviation,
                "allows_fraction": unit.allows_fraction,
            }
            if unit
            else None
        ),
        "attributes": (
            [{"type": v.variant_type.name, "value": v.value} for v in variant.values.all()]
            if variant
            else []
        ),
    }


def image_ids(product: Product) -> list:
    return [image.image_id for image in product.images.all()]
