from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exports import Column, ExportableListMixin, Kind
from apps.core.filters import PERIOD, period_filter
from apps.core.idempotency import idempotent
from apps.core.openapi import IDEMPOTENCY_KEY
from apps.inventory import selectors, services
from apps.inventory.api import serializers as s
from apps.inventory.api.filters import (
    CountFilter,
    MovementFilter,
    StockLevelFilter,
    TransferFilter,
)
from apps.inventory.models import StockLevel
from apps.stores.selectors import visible_store_ids
from apps.tenants.models import PlanFeature
from apps.tenants.selectors import company_time_zone
from apps.users.models import User


def _visible(request) -> list | None:
    return visible_store_ids(user=request.user)


def _levels_response(levels: list[services.LevelView]) -> Response:
    return Response({"items": s.StockLevelSerializer(levels, many=True).data})


@extend_schema(tags=["inventory"])
class StockLevelListView(ExportableListMixin, generics.ListAPIView):
    """Stock per location (a cashier sees their stores only)."""

    export_name = "stock"

    required_permission = "inventory:read"
    serializer_class = s.StockLevelSerializer
    filterset_class = StockLevelFilter
    search_fields = ["product__name", "^product__sku", "^variant__sku"]
    ordering_fields = ["quantity", "product_name", "stock_value", "updated_at"]
    ordering = ["product_name", "id"]
    only_low = False

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StockLevel.objects.none()
        queryset = selectors.stock_level_list(store_ids=_visible(self.request))
        return queryset.filter(is_low=True) if self.only_low else queryset


@extend_schema(tags=["inventory"])
class LowStockListView(StockLevelListView):
    """Levels at or below their threshold (the level's own, else the company default)."""

    only_low = True


@extend_schema(
    tags=["inventory"],
    request=s.AdjustInputSerializer,
    responses={200: s.StockLevelsSerializer},
    parameters=[IDEMPOTENCY_KEY],
)
class StockAdjustView(APIView):
    """Relative changes with a reason, several items at once, all or nothing."""

    required_permission = "inventory:write"

    @idempotent
    def post(self, request):
        data = s.AdjustInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        levels = services.stock_adjust(
            actor=request.user,
            store_id=values["store_id"],
            reason=values["reason"],
            note=values["note"],
            items=[services.AdjustItem(**item) for item in values["items"]],
        )
        return _levels_response(levels)


@extend_schema(
    tags=["inventory"],
    request=s.SetInputSerializer,
    responses={200: s.StockLevelsSerializer},
    parameters=[IDEMPOTENCY_KEY],
)
class StockSetView(APIView):
    """Absolute quantities; `expectedQuantity` makes an item a compare-and-set (409)."""

    required_permission = "inventory:write"

    @idempotent
    def post(self, request):
        data = s.SetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        levels = services.stock_set(
            actor=request.user,
            store_id=values["store_id"],
            note=values["note"],
            items=[services.SetItem(**item) for item in values["items"]],
        )
        return _levels_response(levels)


@extend_schema(
    tags=["inventory"],
    request=s.ThresholdInputSerializer,
    responses={200: s.StockLevelSerializer},
)
class StockThresholdView(APIView):
    required_permission = "inventory:write"

    def patch(self, request, store_id, product_id):
        selectors.store_and_product_check(store_id=store_id, product_id=product_id)  # 404 first
        data = s.ThresholdInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        level = services.stock_threshold_set(
            actor=request.user,
            store_id=store_id,
            product_id=product_id,
            variant_id=data.validated_data["variant_id"],
            threshold=data.validated_data["threshold"],
        )
        (fresh,) = selectors.stock_levels_by_id([level.id])
        return Response(s.StockLevelSerializer(fresh).data)


@extend_schema(tags=["inventory"], parameters=PERIOD)
class MovementListView(ExportableListMixin, generics.ListAPIView):
    """The stock ledger, newest first. `meta.total` counts up to 10,000 rows; beyond that it
    says 10,000 with `meta.totalCapped: true` (every page can still be read). Also
    `?format=csv|xlsx|pdf` (core.exports), every row the filters select."""

    export_name = "stock-movements"
    export_names = {"user_id": ("User", User)}  # a public-schema user: no foreign key
    export_totals = ("delta",)

    required_permission = "inventory:read"
    count_cap = 10_000
    serializer_class = s.MovementSerializer
    filterset_class = MovementFilter
    ordering_fields: list[str] = []
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.movement_list().none()
        return period_filter(
            self.request,
            selectors.movement_list(store_ids=_visible(self.request)),
            time_zone=company_time_zone(self.request.user.tenant),
        )

    def export_columns(self, serializer) -> list[Column]:
        """The ledger's scalar fields, its `reference` ({type, id}) as two columns."""
        columns = super().export_columns(serializer)
        at = next(i for i, column in enumerate(columns) if column.key == "user_id")
        columns[at:at] = [
            Column("reference_type", "Reference type"),
            Column("reference_id", "Reference ID", Kind.ID),
        ]
        return columns

    def export_row(self, instance, data: dict) -> dict:
        data = super().export_row(instance, data)
        data["reference_type"] = instance.reference_type or None
        data["reference_id"] = instance.reference_id
        return data


@extend_schema(tags=["inventory"])
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stock moving between two locations: PENDING → IN_TRANSIT → COMPLETED, or CANCELLED."""

    required_permission = {
        "list": "inventory:read",
        "retrieve": "inventory:read",
        "create": "inventory:write",
        "ship": "inventory:write",
        "receive": "inventory:write",
        "cancel": "inventory:write",
    }
    # new transfers need the plan's multiStore; those under way may still be finished
    required_feature = {"create": PlanFeature.MULTI_STORE}
    serializer_class = s.TransferSerializer
    filterset_class = TransferFilter
    ordering_fields = ["number", "created_at"]
    ordering = ["-number"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.transfer_list().none()
        return selectors.transfer_list(store_ids=_visible(self.request))

    def get_object(self):
        return selectors.transfer_get(
            transfer_id=self.kwargs["pk"], store_ids=_visible(self.request)
        )

    def _render(self, transfer, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.transfer_get(transfer_id=transfer.pk)
        return Response(s.TransferSerializer(fresh).data, status=code)

    @extend_schema(
        request=s.TransferInputSerializer,
        responses={201: s.TransferSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = s.TransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        transfer = services.transfer_create(
            actor=request.user,
            from_store_id=values["from_store_id"],
            to_store_id=values["to_store_id"],
            note=values["note"],
            items=[services.TransferLine(**item) for item in values["items"]],
        )
        return self._render(transfer, status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={200: s.TransferSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def ship(self, request, pk=None):
        transfer = services.transfer_ship(actor=request.user, transfer_id=self.get_object().pk)
        return self._render(transfer)

    @extend_schema(
        request=s.ReceiveInputSerializer,
        responses={200: s.TransferSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, pk=None):
        transfer_id = self.get_object().pk  # 404 before 400
        data = s.ReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data.get("items")
        transfer = services.transfer_receive(
            actor=request.user,
            transfer_id=transfer_id,
            items=None if items is None else [services.ReceivedLine(**item) for item in items],
        )
        return self._render(transfer)

    @extend_schema(
        request=None, responses={200: s.TransferSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        transfer = services.transfer_cancel(actor=request.user, transfer_id=self.get_object().pk)
        return self._render(transfer)


@extend_schema(tags=["inventory"])
class CountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stock counts of one location: start, submit counted quantities (several times, by several
    people), finalize (one COUNT movement per difference, keeping sales made meanwhile) or
    cancel. The detail carries the variance report."""

    required_permission = {
        "list": "inventory:read",
        "retrieve": "inventory:read",
        "create": "inventory:write",
        "lines": "inventory:write",
        "finalize": "inventory:write",
        "cancel": "inventory:write",
    }
    serializer_class = s.StockCountSerializer
    filterset_class = CountFilter
    ordering_fields = ["number", "created_at"]
    ordering = ["-number"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.count_list().none()
        return selectors.count_list(store_ids=_visible(self.request))

    def get_object(self):
        return selectors.count_get(count_id=self.kwargs["pk"], store_ids=_visible(self.request))

    def _render(self, count, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.count_get(count_id=count.pk)
        return Response(s.StockCountSerializer(fresh).data, status=code)

    @extend_schema(
        request=s.StockCountInputSerializer,
        responses={201: s.StockCountSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = s.StockCountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.count_start(actor=request.user, **data.validated_data)
        return self._render(count, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.StockCountSubmitSerializer,
        responses={200: s.StockCountSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def lines(self, request, pk=None):
        count_id = self.get_object().pk  # 404 before 400
        data = s.StockCountSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.count_submit(
            actor=request.user,
            count_id=count_id,
            items=[services.CountedItem(**item) for item in data.validated_data["items"]],
        )
        return self._render(count)

    @extend_schema(
        request=None, responses={200: s.StockCountSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def finalize(self, request, pk=None):
        count = services.count_finalize(actor=request.user, count_id=self.get_object().pk)
        return self._render(count)

    @extend_schema(
        request=None, responses={200: s.StockCountSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        count = services.count_cancel(actor=request.user, count_id=self.get_object().pk)
        return self._render(count)
