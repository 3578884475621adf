from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exports import ExportableListMixin
from apps.core.filters import PERIOD
from apps.core.idempotency import idempotent
from apps.core.openapi import IDEMPOTENCY_KEY
from apps.core.roles import Role
from apps.customers.selectors import customer_get
from apps.sales import pricing, selectors, services
from apps.sales.api import serializers as s
from apps.sales.api.approval import approval_of
from apps.sales.api.filters import PaymentFilter, SaleFilter
from apps.sales.models import Payment, Sale
from apps.stores.selectors import visible_store_ids
from apps.users.models import User

UUID_PATTERN = r"[0-9a-fA-F-]{36}"


def _discount(data) -> pricing.Discount | None:
    return None if not data else pricing.Discount(data["type"], data["value"])


def checkout_of(values: dict) -> services.Checkout:
    """The validated checkout body as the service's typed input."""
    return services.Checkout(
        store_id=values["store_id"],
        customer_id=values["customer_id"],
        client_sale_id=values["client_sale_id"],
        items=[
            services.CartItem(
                product_id=item["product_id"],
                variant_id=item["variant_id"],
                quantity=item["quantity"],
                unit_price=item.get("unit_price"),
                discount=_discount(item.get("discount")),
            )
            for item in values["items"]
        ],
        discount=_discount(values.get("discount")),
        redeem_points=values["redeem_points"],
        payments=[pricing.Tender(p["method"], p["amount"]) for p in values["payments"]],
        references=[p["reference"] for p in values["payments"]],
        note=values["note"],
        approval=approval_of(values.get("approval")),
    )


@extend_schema(tags=["sales"])
class SaleViewSet(
    ExportableListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sales of the company (a cashier sees their stores' only)."""

    export_name = "sales"

    required_permission = {
        "get": "sale:read",
        "checkout": "sale:create",
        "quote": "sale:create",
        "void": "sale:void",
        "return_items": "sale:return",
    }
    lookup_value_regex = UUID_PATTERN
    filterset_class = SaleFilter
    ordering_fields = ["created_at", "total", "number"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        return s.SaleDetailSerializer if self.action == "retrieve" else s.SaleSerializer

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "hide_cost": getattr(self.request.user, "role", None) == Role.CASHIER,
        }

    def _store_ids(self):
        return visible_store_ids(user=self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Sale.objects.none()
        return selectors.sale_list(store_ids=self._store_ids())

    def get_object(self):
        return selectors.sale_get(sale_id=self.kwargs["pk"], store_ids=self._store_ids())

    @extend_schema(parameters=PERIOD)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _render(self, sale, code=status.HTTP_200_OK) -> Response:
        return Response(s.SaleSerializer(sale, context=self.get_serializer_context()).data, code)

    @extend_schema(
        request=s.CheckoutInputSerializer,
        responses={201: s.SaleSerializer, 200: s.SaleSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def checkout(self, request):
        """Records a sale: priced by the server, stock out, payments, the customer's account
        and points. A retry with the same `clientSaleId` answers the stored sale with 200."""
        data = s.CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.sale_checkout(
            actor=request.user, checkout=checkout_of(data.validated_data)
        )
        if result.replayed:
            return self._render(selectors.sale_get(sale_id=result.sale.pk))
        return self._render(result.sale, status.HTTP_201_CREATED)

    @extend_schema(request=s.CheckoutInputSerializer, responses={200: s.SaleSerializer})
    @action(detail=False, methods=["post"])
    def quote(self, request):
        """The sale a checkout with this body would make (refusals included); nothing written."""
        data = s.CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale = services.sale_quote(actor=request.user, checkout=checkout_of(data.validated_data))
        return self._render(sale)

    @extend_schema(
        request=s.VoidInputSerializer,
        responses={200: s.SaleDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def void(self, request, pk=None):
        """Cancels a completed sale inside the void window: stock, payments, the customer's
        account and points restored."""
        sale = self.get_object()  # 404 before 400
        data = s.VoidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.sale_void(
            actor=request.user, sale_id=sale.pk, reason=data.validated_data["reason"]
        )
        sale = selectors.sale_get(sale_id=sale.pk)
        return Response(s.SaleDetailSerializer(sale, context=self.get_serializer_context()).data)

    @extend_schema(
        request=s.ReturnInputSerializer,
        responses={201: s.SaleReturnSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], url_path="return")
    @idempotent
    def return_items(self, request, pk=None):
        """Takes items back: a numbered return document with its refund."""
        sale = self.get_object()
        data = s.ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sale_return = services.sale_return(
            actor=request.user,
            sale_id=sale.pk,
            items=[services.ReturnLine(**line) for line in values["items"]],
            refund_method=values["refund_method"],
            reason=values["reason"],
        )
        return Response(s.SaleReturnSerializer(sale_return).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["payments"])
class PaymentViewSet(
    ExportableListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Money in and out: tendered at checkout, change, refunds, voids, collected dues. The list
    also answers `?format=csv|xlsx|pdf` (core.exports)."""

    export_name = "payments"
    export_names = {"created_by": ("Cashier", User)}  # a user id, no foreign key
    export_totals = ("amount",)  # money in less money out, per currency

    required_permission = "sale:read"
    lookup_value_regex = UUID_PATTERN
    filterset_class = PaymentFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        return s.PaymentDetailSerializer if self.action == "retrieve" else s.PaymentSerializer

    def _store_ids(self):
        return visible_store_ids(user=self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return selectors.payment_list(store_ids=self._store_ids())

    def get_object(self):
        return selectors.payment_get(payment_id=self.kwargs["pk"], store_ids=self._store_ids())

    @extend_schema(parameters=PERIOD)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["payments"])
class CustomerPaymentsView(generics.ListAPIView):
    """A customer's payments, newest first (404 for an unknown customer)."""

    required_permission = "customer:read"
    serializer_class = s.PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()

        customer_get(customer_id=self.kwargs["customer_id"])  # 404
        return selectors.payment_list().filter(customer_id=self.kwargs["customer_id"])


@extend_schema(
    tags=["payments"],
    request=s.CollectDueInputSerializer,
    responses={201: s.DueCollectionSerializer},
    parameters=[IDEMPOTENCY_KEY],
)
class CollectDueView(APIView):
    """A customer pays what they owe; their oldest due sales are settled first."""

    required_permission = "sale:create"

    @idempotent
    def post(self, request):
        data = s.CollectDueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.due_collect(actor=request.user, **data.validated_data)
        return Response(s.DueCollectionSerializer(collection).data, status=status.HTTP_201_CREATED)
