from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors, services
from apps.catalog.api import serializers as s
from apps.catalog.api.filters import ProductFilter, StatusViewFilter
from apps.catalog.models import ProductStatus
from apps.core.errors import NotFound, ValidationFailed
from apps.core.exports import ExportableListMixin
from apps.core.pagination import enveloped_response, page_params
from apps.core.parsers import JSONParser
from apps.core.roles import Role

UUID_PATTERN = r"[0-9a-fA-F-]{36}"


def permissions(read: str, write: str) -> dict[str, str]:
    return {"get": read, "post": write, "patch": write, "delete": write}


class ReferenceDataViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """CRUD for catalogue reference data: reads from a selector, writes through services
    (the subclasses' `perform_*`), every response rendered from a fresh read."""

    lookup_value_regex = UUID_PATTERN
    input_serializer: type
    label = "Item"
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_object(self):
        obj = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if obj is None:
            raise NotFound(f"{self.label} not found.")
        return obj

    def _render(self, obj, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    def _input(self, request, partial: bool = False) -> dict:
        data = self.input_serializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def create(self, request):
        return self._render(self.perform_create(self._input(request)), status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        target = self.get_object()  # 404 before 400
        return self._render(self.perform_update(target, self._input(request, True)))

    def destroy(self, request, pk=None):
        obj = self.perform_destroy(self.get_object())
        return Response(self.get_serializer(obj).data)


def reference_schema(output, input_):
    """Documents a ReferenceDataViewSet's writes with its input and output serializers."""
    return extend_schema_view(
        create=extend_schema(request=input_, responses={201: output}),
        partial_update=extend_schema(request=input_, responses={200: output}),
        destroy=extend_schema(request=None, responses={200: output}),
    )


@extend_schema(tags=["catalogue"])
@reference_schema(s.BrandSerializer, s.BrandInputSerializer)
class BrandViewSet(ReferenceDataViewSet):
    required_permission = permissions("product:read", "product:write")
    serializer_class = s.BrandSerializer
    input_serializer = s.BrandInputSerializer
    label = "Brand"

    def get_queryset(self):
        return selectors.brand_list()

    def perform_create(self, data):
        return services.brand_create(actor=self.request.user, **data)

    def perform_update(self, brand, data):
        return services.brand_update(actor=self.request.user, brand_id=brand.pk, **data)

    def perform_destroy(self, brand):
        return services.brand_delete(actor=self.request.user, brand_id=brand.pk)


@extend_schema(tags=["catalogue"])
@reference_schema(s.UnitSerializer, s.UnitInputSerializer)
class UnitViewSet(ReferenceDataViewSet):
    required_permission = permissions("product:read", "product:write")
    serializer_class = s.UnitSerializer
    input_serializer = s.UnitInputSerializer
    label = "Unit"
    search_fields = ["name", "abbreviation"]

    def get_queryset(self):
        return selectors.unit_list()

    def perform_create(self, data):
        return services.unit_create(actor=self.request.user, **data)

    def perform_update(self, unit, data):
        return services.unit_update(actor=self.request.user, unit_id=unit.pk, **data)

    def perform_destroy(self, unit):
        return services.unit_delete(actor=self.request.user, unit_id=unit.pk)


@extend_schema(tags=["catalogue"])
@reference_schema(s.VariantTypeSerializer, s.VariantTypeInputSerializer)
class VariantTypeViewSet(ReferenceDataViewSet):
    required_permission = permissions("product:read", "product:write")
    serializer_class = s.VariantTypeSerializer
    input_serializer = s.VariantTypeInputSerializer
    label = "Variant type"

    def get_queryset(self):
        return selectors.variant_type_list()

    def perform_create(self, data):
        return services.variant_type_create(
            actor=self.request.user, name=data["name"], values=data.get("values", [])
        )

    def perform_update(self, variant_type, data):
        return services.variant_type_update(
            actor=self.request.user, variant_type_id=variant_type.pk, **data
        )

    def perform_destroy(self, variant_type):
        return services.variant_type_delete(
            actor=self.request.user, variant_type_id=variant_type.pk
        )


@extend_schema(tags=["catalogue"])
@reference_schema(s.CategorySerializer, s.CategoryInputSerializer)
class CategoryViewSet(ReferenceDataViewSet):
    required_permission = permissions("category:read", "category:write")
    serializer_class = s.CategorySerializer
    input_serializer = s.CategoryInputSerializer
    label = "Category"
    ordering = ["position", "name"]
    ordering_fields = ["name", "position", "created_at"]

    def get_queryset(self):
        return selectors.category_list()

    @extend_schema(
        parameters=[
            OpenApiParameter("view", str, enum=["flat", "tree"], description="Default flat")
        ],
        responses={200: s.CategorySerializer(many=True)},
    )
    def list(self, request):
        view = request.query_params.get("view", "flat")
        if view not in ("flat", "tree"):
            raise ValidationFailed.for_field("view", "Must be 'flat' or 'tree'.")
        if view == "flat":
            return super().list(request)
        page_params(request)  # documented for both views: a malformed one is a 400 here too
        roots, children = selectors.category_tree(list(self.filter_queryset(self.get_queryset())))
        data = s.CategoryTreeSerializer(roots, many=True, context={"children": children}).data
        meta = {"page": 1, "limit": len(roots), "total": len(roots), "total_pages": 1}
        return enveloped_response(data, meta)

    def perform_create(self, data):
        return services.category_create(actor=self.request.user, **data)

    def perform_update(self, category, data):
        return services.category_update(actor=self.request.user, category_id=category.pk, **data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reassignTo",
                OpenApiTypes.UUID,
                description="Move its products and subcategories here, then delete it",
            )
        ]
    )
    def destroy(self, request, pk=None):
        return super().destroy(request, pk)

    def perform_destroy(self, category):
        target = self.request.query_params.get("reassign_to")  # camelCase middleware
        return services.category_delete(
            actor=self.request.user,
            category_id=category.pk,
            reassign_to_id=_uuid(target, "reassignTo"),
        )


def _uuid(value: str | None, field: str):
    import uuid

    if value is None:  # absent; an empty `?reassignTo=` is not a UUID (400)
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed.for_field(field, "Must be a UUID.") from None


class SearchOrderMixin:
    def filter_queryset(self, queryset):
        params = self.request.query_params
        for backend in self.filter_backends:
            # django-filter builds a FilterSet, a form class and its fields on every request
            # (~0.4 ms, the list's largest cost after its query); without any of its parameters
            # it changes nothing, so it runs only when one is present.
            if issubclass(backend, DjangoFilterBackend) and not any(
                name in params for name in self.filterset_class.base_filters
            ):
                continue
            queryset = backend().filter_queryset(self.request, queryset, self)
        if params.get("search") and not params.get("sort"):
            queryset = selectors.product_search_order(queryset)
        return queryset


class ProductListMixin(SearchOrderMixin):
    """The product lists' path: the page is read as plain values and rendered by
    `product_list_data` (ProductSerializer's wire format, without a serializer pass per row),
    with its total in the same query."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(selectors.product_list_rows(queryset))
        hide_cost = getattr(request.user, "role", None) == Role.CASHIER
        return self.get_paginated_response(s.product_list_data(page, hide_cost=hide_cost))


@extend_schema(tags=["products"])
class ProductViewSet(
    ExportableListMixin,
    ProductListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    export_name = "products"
    required_permission = permissions("product:read", "product:write")
    lookup_value_regex = UUID_PATTERN
    filterset_class = ProductFilter
    search_fields = ["name", "^sku", "^barcode"]  # codes match from the start
    ordering_fields = ["name", "sku", "sell_price", "created_at", "updated_at"]
    ordering = ["name"]

    def get_serializer_class(self):
        return s.ProductSerializer if self.action == "list" else s.ProductDetailSerializer

    def get_queryset(self):
        return selectors.product_list()

    def get_object(self):
        return selectors.product_get(product_id=self.kwargs["pk"])

    def _render(self, product, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.product_get(product_id=product.pk)
        return Response(
            s.ProductDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(request=s.ProductInputSerializer, responses={201: s.ProductDetailSerializer})
    def create(self, request):
        data = s.ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(actor=request.user, **data.validated_data)
        return self._render(product, status.HTTP_201_CREATED)

    @extend_schema(request=s.ProductInputSerializer, responses={200: s.ProductDetailSerializer})
    def partial_update(self, request, pk=None):
        product = self.get_object()
        data = s.ProductInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.product_update(
            actor=request.user, product_id=product.pk, **data.validated_data
        )
        return self._render(product)

    @extend_schema(request=None, responses={200: s.ProductDetailSerializer})
    def destroy(self, request, pk=None):
        product = self.get_object()  # rendered as it was (with its variant count)
        services.product_delete(actor=request.user, product_id=product.pk)
        return Response(
            s.ProductDetailSerializer(product, context=self.get_serializer_context()).data
        )

    @extend_schema(request=s.VariantInputSerializer, responses={201: s.ProductDetailSerializer})
    @action(detail=True, methods=["post"], url_path="variants")
    def add_variant(self, request, pk=None):
        product = self.get_object()
        data = s.VariantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.variant_create(actor=request.user, product_id=product.pk, **data.validated_data)
        return self._render(product, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": s.ImageUploadInputSerializer},
        responses={201: s.ProductImageSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def images(self, request, pk=None):
        product = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed.for_field("file", "Upload the image as the 'file' field.")
        image = services.product_image_add(
            actor=request.user, product_id=product.pk, data=upload.read()
        )
        payload = {
            "id": image.pk,
            "image_id": image.image_id,
            "url": s.image_url(image.image_id),
            "position": image.position,
        }
        return Response(s.ProductImageSerializer(payload).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["products"])
class ProductVariantView(APIView):
    """PATCH / DELETE /products/:id/variants/:variantId"""

    required_permission = "product:write"

    def _variant(self, product_id, variant_id):
        product = selectors.product_get(product_id=product_id, queryset=selectors.product_list())
        return product, selectors.variant_get(product=product, variant_id=variant_id)

    def _render(self, product):
        fresh = selectors.product_get(product_id=product.pk)
        return Response(s.ProductDetailSerializer(fresh, context={"request": self.request}).data)

    @extend_schema(request=s.VariantInputSerializer, responses={200: s.ProductDetailSerializer})
    def patch(self, request, product_id, variant_id):
        product, variant = self._variant(product_id, variant_id)
        data = s.VariantInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.variant_update(actor=request.user, variant_id=variant.pk, **data.validated_data)
        return self._render(product)

    @extend_schema(request=None, responses={200: s.ProductDetailSerializer})
    def delete(self, request, product_id, variant_id):
        product, variant = self._variant(product_id, variant_id)
        services.variant_delete(actor=request.user, variant_id=variant.pk)
        return self._render(product)


STATUS_SLUGS = {
    "draft": ProductStatus.DRAFT,
    "archived": ProductStatus.ARCHIVED,
    "discontinued": ProductStatus.DISCONTINUED,
    "coming-soon": ProductStatus.COMING_SOON,
}


@extend_schema(tags=["products"])
class ProductStatusViewSet(
    ProductListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Read-only views of the products in one status: list, detail, count."""

    required_permission = "product:read"
    lookup_value_regex = UUID_PATTERN
    filterset_class = StatusViewFilter
    search_fields = ["name", "^sku", "^barcode"]  # codes match from the start
    ordering_fields = ["name", "sku", "sell_price", "created_at", "updated_at"]
    ordering = ["name"]

    def get_serializer_class(self):
        return (
            s.ProductSerializer if self.action in ("list", "count") else s.ProductDetailSerializer
        )

    def _status(self) -> str:
        return STATUS_SLUGS[self.kwargs["status_slug"]]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.product_list().none()
        return selectors.product_list().filter(status=self._status())

    def get_object(self):
        queryset = selectors.product_detail_queryset().filter(status=self._status())
        return selectors.product_get(product_id=self.kwargs["pk"], queryset=queryset)

    @extend_schema(responses={200: s.CountSerializer})
    @action(detail=False, methods=["get"])
    def count(self, request, status_slug=None):
        total = self.filter_queryset(self.get_queryset()).count()
        return Response(s.CountSerializer({"status": self._status(), "count": total}).data)


@extend_schema(tags=["products"], responses={200: s.BarcodeLookupSerializer})
class BarcodeLookupView(APIView):
    required_permission = "product:read"

    def get(self, request, barcode):
        # The selector already returns the documented shape with JSON-ready values; skipping a
        # serializer pass here is worth ~1 ms on the hottest till call.
        return Response(selectors.barcode_lookup(code=barcode, tenant=request.user.tenant))


def _flag(request, key: str, public_name: str) -> bool:
    """A boolean query parameter (`key` as the camelCase middleware delivers it)."""
    raw = request.query_params.get(key, "false").lower()
    if raw not in ("true", "false"):
        raise ValidationFailed.for_field(public_name, "Must be true or false.")
    return raw == "true"


@extend_schema(
    tags=["products"],
    parameters=[
        OpenApiParameter("dryRun", bool, description="Validate and report; write nothing"),
        OpenApiParameter("mode", str, enum=["all", "partial"], description="Default all"),
        OpenApiParameter("createMissing", bool, description="Create unknown categories etc."),
    ],
    request={
        "application/json": {"type": "array", "items": {"type": "object"}, "maxItems": 50000},
        "multipart/form-data": s.BulkImportUploadSerializer,
    },
    responses={200: s.ImportReportSerializer},
)
class BulkImportView(APIView):
    """Rows as a JSON array (keys as in the CSV header: sku, name, barcode, category, brand,
    unit, status, costPrice, sellPrice, taxRate, trackStock, variantSku, variantBarcode,
    variantPrice, variantCost, variantAttributes), or a CSV/XLSX upload as `file`."""

    required_permission = "product:write"
    # JSON rows keep the column names exactly as sent (no camelCase conversion).
    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request):
        from apps.catalog.imports import products_bulk_import, rows_from_upload

        if request.content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed.for_field("file", "Upload the file as the 'file' field.")
            rows = rows_from_upload(upload.name, upload.read())
        else:
            rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        report = products_bulk_import(
            actor=request.user,
            rows=rows,
            dry_run=_flag(request, "dry_run", "dryRun"),
            mode=request.query_params.get("mode", "all"),
            create_missing=_flag(request, "create_missing", "createMissing"),
        )
        return Response(s.ImportReportSerializer(report).data)
