from __future__ import annotations

import json
from datetime import UTC, datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

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
from apps.core.money import cost_serializer_field, money_serializer_field, rate_serializer_field
from apps.core.renderers import CamelCaseList, camelize
from apps.core.roles import Role


def image_url(image_id) -> str:
    return reverse("image", kwargs={"image_id": image_id})


class RefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UnitRefSerializer(RefSerializer):
    abbreviation = serializers.CharField()


# --- reference data ---


class CategorySerializer(serializers.ModelSerializer):
    parent_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "name", "parent_id", "description", "position", "created_at", "updated_at"]


class CategoryTreeSerializer(CategorySerializer):
    children = serializers.SerializerMethodField()

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "children"]

    def get_children(self, category) -> list[dict]:
        nodes = self.context["children"].get(category.pk, [])
        return CategoryTreeSerializer(nodes, many=True, context=self.context).data


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    parent_id = serializers.UUIDField(allow_null=True, required=False)
    description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "description", "created_at", "updated_at"]


class BrandInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=1000, allow_blank=True, required=False)


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "abbreviation", "allows_fraction", "created_at", "updated_at"]


class UnitInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    abbreviation = serializers.CharField(max_length=12)
    allows_fraction = serializers.BooleanField(required=False)


class VariantTypeValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = VariantTypeValue
        fields = ["id", "value", "position"]


class VariantTypeSerializer(serializers.ModelSerializer):
    values = VariantTypeValueSerializer(many=True)

    class Meta:
        model = VariantType
        fields = ["id", "name", "values", "created_at", "updated_at"]


class VariantTypeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    values = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=200, required=False
    )


# --- products ---


class VariantValueSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(source="variant_type.name")
    value = serializers.CharField()


class VariantSerializer(serializers.ModelSerializer):
    values = VariantValueSerializer(many=True)
    effective_price = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "name", "sku", "barcode", "price", "cost", "effective_price", "values"]

    def get_effective_price(self, variant) -> money_serializer_field():
        price = variant.price if variant.price is not None else variant.product.sell_price
        return money_serializer_field().to_representation(price)


class ProductSerializer(serializers.ModelSerializer):
    category = RefSerializer(allow_null=True)
    brand = RefSerializer(allow_null=True)
    unit = UnitRefSerializer(allow_null=True)
    cost_price = cost_serializer_field(allow_null=True)  # null for cashiers
    variant_count = serializers.IntegerField()
    image_urls = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "sku",
            "barcode",
            "description",
            "category",
            "brand",
            "unit",
            "status",
            "cost_price",
            "sell_price",
            "tax_rate",
            "track_stock",
            "attributes",
            "variant_count",
            "image_urls",
            "created_at",
            "updated_at",
        ]

    def get_image_urls(self, product) -> list[str]:
        return [image_url(image_id) for image_id in product.image_ids]

    def to_representation(self, product):
        data = super().to_representation(product)
        request = self.context.get("request")
        if request is not None and getattr(request.user, "role", None) == Role.CASHIER:
            data["cost_price"] = None  # cashiers sell; margins are for managers
            for variant in data.get("variants", []):
                variant["cost"] = None
        return data


_IMAGE_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def product_list_data(rows, *, hide_cost: bool) -> CamelCaseList:
    """ProductSerializer's output for a page of `selectors.ProductRows` rows, built directly
    with its wire (camelCase) keys: the same keys in the same order, the same values (ids and
    money as text, datetimes as DRF's ISO 8601, `attributes` camelized as the renderer would), for
    a fraction of a serializer pass and of the renderer's camelCase walk — the list's main costs.
    apps/catalog/tests/test_perf_product_list.py compares it with the serializer's output.
    `hide_cost`: cashiers get `costPrice: null`."""
    tz = _current_zone_unless_utc()
    image_template = image_url(_IMAGE_PLACEHOLDER)
    data = CamelCaseList()
    for row in rows:
        data.append(
            {
                "id": row.id,
                "name": row.name,
                "sku": row.sku,
                "barcode": row.barcode,
                "description": row.description,
                "category": None
                if row.category_id is None
                else {"id": row.category_id, "name": row.category_name},
                "brand": None
                if row.brand_id is None
                else {"id": row.brand_id, "name": row.brand_name},
                "unit": None
                if row.unit_id is None
                else {
                    "id": row.unit_id,
                    "name": row.unit_name,
                    "abbreviation": row.unit_abbreviation,
                },
                "status": row.status,
                "costPrice": None if hide_cost else row.cost_price,
                "sellPrice": row.sell_price,
                "taxRate": row.tax_rate,
                "trackStock": row.track_stock,
                "attributes": {}
                if row.attributes == "{}"
                else camelize(json.loads(row.attributes)),
                "variantCount": row.variant_count,
                "imageUrls": [
                    image_template.replace(_IMAGE_PLACEHOLDER, image_id)
                    for image_id in row.image_ids
                ],
                "createdAt": _datetime(row.created_at, tz),
                "updatedAt": _datetime(row.updated_at, tz),
            }
        )
    return data


def _datetime(text: str | None, tz) -> str | None:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, UTC as `Z`, microseconds
    only when not zero) for `YYYY-MM-DDTHH:MM:SS.ffffff` text in UTC."""
    if text is None:
        return None
    if text.endswith(".000000"):
        text = text[:-7]
    if tz is None:  # the current time zone is UTC
        return text + "Z"
    local = datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(tz)
    text = local.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _current_zone_unless_utc():
    tz = timezone.get_current_timezone()
    return None if tz is UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC") else tz


class ProductDetailSerializer(ProductSerializer):
    variants = VariantSerializer(many=True)

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "variants"]


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    sku = serializers.CharField(max_length=64)
    barcode = serializers.CharField(
        max_length=64, allow_null=True, allow_blank=True, required=False
    )
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    category_id = serializers.UUIDField(allow_null=True, required=False)
    brand_id = serializers.UUIDField(allow_null=True, required=False)
    unit_id = serializers.UUIDField(allow_null=True, required=False)
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)
    cost_price = cost_serializer_field(required=False)
    sell_price = money_serializer_field(required=False)
    tax_rate = rate_serializer_field(allow_null=True, required=False)
    track_stock = serializers.BooleanField(required=False)
    attributes = serializers.DictField(required=False)


class VariantInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    barcode = serializers.CharField(
        max_length=64, allow_null=True, allow_blank=True, required=False
    )
    price = money_serializer_field(allow_null=True, required=False)
    cost = cost_serializer_field(allow_null=True, required=False)
    value_ids = serializers.ListField(child=serializers.UUIDField(), max_length=10)


class ImageUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class ProductImageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    image_id = serializers.UUIDField()
    url = serializers.CharField()
    position = serializers.IntegerField()


class CountSerializer(serializers.Serializer):
    status = serializers.CharField()
    count = serializers.IntegerField()


class UnitDetailSerializer(serializers.Serializer):
    name = serializers.CharField()
    abbreviation = serializers.CharField()
    allows_fraction = serializers.BooleanField()


class AttributeSerializer(serializers.Serializer):
    type = serializers.CharField()
    value = serializers.CharField()


class BarcodeLookupSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["product", "variant"])
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField(allow_null=True)
    sku = serializers.CharField()
    barcode = serializers.CharField()
    price = money_serializer_field()
    tax_rate = rate_serializer_field()
    prices_include_tax = serializers.BooleanField()
    status = serializers.CharField()
    sellable = serializers.BooleanField()
    track_stock = serializers.BooleanField()
    unit = UnitDetailSerializer(allow_null=True)
    attributes = AttributeSerializer(many=True)


class ImportReferencesSerializer(serializers.Serializer):
    categories = serializers.IntegerField()
    brands = serializers.IntegerField()
    units = serializers.IntegerField()
    variantValues = serializers.IntegerField()


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    mode = serializers.CharField()
    rows = serializers.IntegerField()
    products_created = serializers.IntegerField()
    products_updated = serializers.IntegerField()
    variants_created = serializers.IntegerField()
    variants_updated = serializers.IntegerField()
    created_references = ImportReferencesSerializer()
    failed_rows = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)


class BulkImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".csv or .xlsx with a header row")
