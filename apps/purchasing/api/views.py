from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.filters import PERIOD
from apps.core.idempotency import idempotent
from apps.core.openapi import IDEMPOTENCY_KEY
from apps.purchasing import selectors, services
from apps.purchasing.api import serializers as s
from apps.purchasing.api.filters import PurchaseFilter

UUID_PATTERN = r"[0-9a-fA-F-]{36}"


@extend_schema(tags=["suppliers"])
class SupplierViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The company's suppliers; the detail adds the balance's ledger and recent orders."""

    required_permission = {
        "get": "supplier:read",
        "post": "supplier:write",
        "patch": "supplier:write",
        "delete": "supplier:write",
    }
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.SupplierSerializer
    ordering_fields = ["name", "balance", "created_at"]

    def get_queryset(self):
        suppliers = selectors.supplier_list()
        search = self.request.query_params.get("search", "").strip()
        return selectors.supplier_search(suppliers, search[:100]) if search else suppliers

    @extend_schema(parameters=[OpenApiParameter("search", OpenApiTypes.STR)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _detail(self, supplier, code=status.HTTP_200_OK) -> Response:
        supplier = selectors.supplier_get(supplier_id=supplier.pk)
        supplier.recent_orders = selectors.supplier_recent_orders(supplier)
        supplier.ledger = selectors.supplier_ledger(supplier)
        return Response(s.SupplierDetailSerializer(supplier).data, status=code)

    @extend_schema(responses={200: s.SupplierDetailSerializer})
    def retrieve(self, request, pk=None):
        return self._detail(selectors.supplier_get(supplier_id=pk))

    @extend_schema(request=s.SupplierInputSerializer, responses={201: s.SupplierDetailSerializer})
    def create(self, request):
        data = s.SupplierInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_create(actor=request.user, **data.validated_data)
        return self._detail(supplier, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SupplierInputSerializer(partial=True),
        responses={200: s.SupplierDetailSerializer},
    )
    def partial_update(self, request, pk=None):
        supplier = selectors.supplier_get(supplier_id=pk)  # 404 before 400
        data = s.SupplierInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.supplier_update(actor=request.user, supplier_id=supplier.pk, **data.validated_data)
        return self._detail(supplier)

    @extend_schema(responses={200: s.SupplierSerializer})
    def destroy(self, request, pk=None):
        """Deletes a supplier without open orders or balance (422 otherwise)."""
        supplier = selectors.supplier_get(supplier_id=pk)
        deleted = services.supplier_delete(actor=request.user, supplier_id=supplier.pk)
        return Response(s.SupplierSerializer(deleted).data)


@extend_schema(tags=["purchases"])
class PurchaseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Purchase orders: ORDERED → PARTIALLY_RECEIVED → RECEIVED, or CANCELLED."""

    required_permission = {
        "get": "purchase:read",
        "create": "purchase:write",
        "receive": "purchase:receive",
        "payment": "purchase:write",
        "cancel": "purchase:write",
    }
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.PurchaseSerializer
    filterset_class = PurchaseFilter
    ordering_fields = ["created_at", "total", "number"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.purchase_list()

    def _detail(self, order_id, code=status.HTTP_200_OK) -> Response:
        return Response(
            s.PurchaseDetailSerializer(selectors.purchase_get(order_id=order_id)).data, status=code
        )

    @extend_schema(parameters=PERIOD)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.PurchaseDetailSerializer})
    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(
        request=s.PurchaseInputSerializer,
        responses={201: s.PurchaseDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = s.PurchaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = services.purchase_create(
            actor=request.user,
            supplier_id=values["supplier_id"],
            store_id=values["store_id"],
            expected_at=values["expected_at"],
            note=values["note"],
            items=[services.OrderLine(**line) for line in values["items"]],
        )
        return self._detail(order.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.GoodsReceiveInputSerializer,
        responses={200: s.PurchaseDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, pk=None):
        """Goods arrive: stock in, weighted-average costs, the supplier's balance."""
        order = selectors.purchase_exists(order_id=pk)  # 404 before 400
        data = s.GoodsReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.purchase_receive(
            actor=request.user,
            order_id=order.pk,
            items=[services.ReceiveLine(**line) for line in data.validated_data["items"]],
            note=data.validated_data["note"],
        )
        return self._detail(order.pk)

    @extend_schema(
        request=s.PaymentInputSerializer,
        responses={201: s.PurchaseDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def payment(self, request, pk=None):
        """A payment to the supplier against this order (never more than its due)."""
        order = selectors.purchase_exists(order_id=pk)
        data = s.PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.purchase_pay(actor=request.user, order_id=order.pk, **data.validated_data)
        return self._detail(order.pk, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.PurchaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancels an order with nothing received, or closes the rest of a part-received one."""
        order = selectors.purchase_exists(order_id=pk)
        services.purchase_cancel(actor=request.user, order_id=order.pk)
        return self._detail(order.pk)
