from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ValidationFailed
from apps.core.filters import query_uuid
from apps.core.idempotency import idempotent
from apps.core.openapi import IDEMPOTENCY_KEY
from apps.core.pagination import enveloped_response, page_params
from apps.core.roles import Role
from apps.pos import selectors, services
from apps.pos.api import serializers as s
from apps.pos.models import ParkedCart, Shift
from apps.sales.api.serializers import SaleSerializer
from apps.tenants.selectors import tenant_settings_cached

UUID_PATTERN = r"[0-9a-fA-F-]{36}"
TILL = "sale:create"  # every /pos operation: the till's own permission
STORE_ID = OpenApiParameter("storeId", OpenApiTypes.UUID, required=False)


@extend_schema(tags=["pos"], parameters=[STORE_ID], responses={200: s.ContextSerializer})
class ContextView(APIView):
    """What a till needs to start: the stores the user works at (or the one chosen), the
    company's till settings, and the user's open shift."""

    required_permission = TILL

    def get(self, request):
        user = request.user
        stores = selectors.working_stores(user=user)
        chosen = None
        store_id = query_uuid(request, "store_id")
        if store_id is not None:
            chosen = next((store for store in stores if store.pk == store_id), None)
            if chosen is None:
                services.till_store(actor=user, store_id=store_id)  # 400 / 403 / 422
        elif len(stores) == 1:
            chosen = stores[0]
        shift = selectors.open_shift_of(cashier_id=user.pk)
        data = {
            "user": {"id": str(user.pk), "name": user.name, "role": user.role},
            "stores": stores,
            "store": chosen,
            "settings": selectors.till_settings(user.tenant),
            "open_shift": shift,
        }
        return Response(s.ContextSerializer(data).data)


@extend_schema(
    tags=["pos"],
    parameters=[
        OpenApiParameter("storeId", OpenApiTypes.UUID, required=True),
        OpenApiParameter("search", str, required=False),
        OpenApiParameter("barcode", str, required=False),
        OpenApiParameter("categoryId", OpenApiTypes.UUID, required=False),
        OpenApiParameter("page", int, required=False),
        OpenApiParameter("limit", int, required=False),
    ],
    responses={200: s.TillItemSerializer(many=True)},
)
class TillProductsView(APIView):
    """Sellable items for the till (a product with variants is sold as its variants): price,
    effective tax and the stock at the store. `page`/`limit` count products."""

    required_permission = TILL

    def get(self, request):
        store_id = query_uuid(request, "store_id")
        if store_id is None:
            raise ValidationFailed.for_field("storeId", "This field is required.")
        store = services.till_store(actor=request.user, store_id=store_id)
        category_id = query_uuid(request, "category_id")
        page, limit = page_params(request)
        items = selectors.till_items(
            store_id=store.pk,
            search=request.query_params.get("search", "").strip()[:100],
            barcode=request.query_params.get("barcode", "").strip()[:64],
            category_ids=None if category_id is None else selectors.category_ids(category_id),
            limit=limit,
            offset=(page - 1) * limit,
            default_tax_rate=tenant_settings_cached(tenant=request.user.tenant).tax_rate,
        )
        return enveloped_response(
            s.TillItemSerializer(items, many=True).data, {"page": page, "limit": limit}
        )


@extend_schema(
    tags=["pos"],
    parameters=[OpenApiParameter("search", str, required=False)],
    responses={200: s.TillCustomerSerializer(many=True)},
)
class TillCustomersView(APIView):
    """Customers to attach to a sale: the first 20 matches of `search` (code, name, phone,
    email), by name."""

    required_permission = TILL

    def get(self, request):
        customers = selectors.till_customers(search=request.query_params.get("search", ""))
        return enveloped_response(
            s.TillCustomerSerializer(customers, many=True).data, {"limit": len(customers)}
        )


@extend_schema(tags=["pos"])
class CartViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Parked carts of the stores the user works at (unexpired), newest first."""

    required_permission = TILL
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.ParkedCartSerializer
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ParkedCart.objects.none()
        carts = selectors.visible_carts(actor=self.request.user)
        store_id = query_uuid(self.request, "store_id")
        return carts if store_id is None else carts.filter(store_id=store_id)

    @extend_schema(parameters=[STORE_ID])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ParkInput, responses={201: s.ParkedCartSerializer})
    def create(self, request):
        """Puts a cart on hold (expires after the company's `parkedCartHours`)."""
        data = s.ParkInput(data=request.data)
        data.is_valid(raise_exception=True)
        parked = services.cart_park(actor=request.user, **data.validated_data)
        return Response(s.ParkedCartSerializer(parked).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.ParkedCartSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Takes the cart back to the till: answered once, then deleted."""
        parked = services.cart_resume(actor=request.user, cart_id=pk)
        return Response(s.ParkedCartSerializer(parked).data)

    @extend_schema(responses={200: s.ParkedCartSerializer})
    def destroy(self, request, pk=None):
        """Discards a parked cart (answers what was discarded)."""
        parked = services.cart_delete(actor=request.user, cart_id=pk)
        return Response(s.ParkedCartSerializer(parked).data)


@extend_schema(
    tags=["pos"],
    parameters=[OpenApiParameter("shiftId", OpenApiTypes.UUID, required=False)],
)
class TillSalesView(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The user's own sales at the till, newest first: those of `shiftId` (one of theirs), else
    of their open shift, else of today (in the company's time zone). Each with its lines and
    payments, for a reprint."""

    required_permission = TILL
    serializer_class = SaleSerializer
    ordering_fields: list[str] = []
    ordering = ["-created_at", "-id"]

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "hide_cost": getattr(self.request.user, "role", None) == Role.CASHIER,
        }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SaleSerializer.Meta.model.objects.none()
        return selectors.till_sales(
            user=self.request.user, shift_id=query_uuid(self.request, "shift_id")
        )


@extend_schema(tags=["pos"])
class ShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cash-drawer shifts: a cashier sees their own, managers and admins every one."""

    required_permission = TILL
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.ShiftSerializer
    ordering_fields = ["opened_at"]
    ordering = ["-opened_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Shift.objects.none()
        shifts = selectors.visible_shifts(actor=self.request.user)
        for field in ("store_id", "cashier_id"):
            value = query_uuid(self.request, field)
            if value is not None:
                shifts = shifts.filter(**{field: value})
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in ("OPEN", "CLOSED"):
                raise ValidationFailed.for_field("status", "OPEN or CLOSED.")
            shifts = shifts.filter(status=wanted)
        return shifts

    def get_object(self):
        return selectors.shift_get(actor=self.request.user, shift_id=self.kwargs["pk"])

    @extend_schema(
        parameters=[
            STORE_ID,
            OpenApiParameter("cashierId", OpenApiTypes.UUID, required=False),
            OpenApiParameter("status", str, enum=["OPEN", "CLOSED"], required=False),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.ShiftOpenInput, responses={201: s.ShiftSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @idempotent
    def create(self, request):
        """Opens the user's shift on a drawer with its counted float (409 when the user or the
        drawer already has an open shift)."""
        data = s.ShiftOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        shift = services.shift_open(actor=request.user, **data.validated_data)
        return Response(
            s.ShiftSerializer(selectors.shift_get(actor=request.user, shift_id=shift.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=s.CashInput, responses={201: s.CashEventSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cash(self, request, pk=None):
        """A pay-in, pay-out or drop (a reason is required)."""
        shift = self.get_object()  # 404 before 400
        data = s.CashInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.shift_cash(actor=request.user, shift_id=shift.pk, **data.validated_data)
        return Response(s.CashEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.XReportSerializer})
    @action(detail=True, methods=["get"], url_path="x-report")
    def x_report(self, request, pk=None):
        """The shift's figures now: the cash log, the expected cash, money by method, sales,
        returns and voids. Any number of times, changing nothing."""
        shift = self.get_object()
        return Response(
            s.XReportSerializer({"shift": shift, **selectors.shift_figures(shift)}).data
        )

    @extend_schema(
        request=s.CloseInput, responses={200: s.ShiftSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def close(self, request, pk=None):
        """Closes the shift with the counted cash: the variance and a numbered, frozen Z report.
        A manager closing another user's shift force-closes it (marked and audited)."""
        shift = self.get_object()
        data = s.CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.shift_close(actor=request.user, shift_id=shift.pk, **data.validated_data)
        return Response(
            s.ShiftSerializer(selectors.shift_get(actor=request.user, shift_id=shift.pk)).data
        )
