from __future__ import annotations

from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.db import UNSET
from apps.core.errors import ValidationFailed
from apps.core.exports import ExportableListMixin
from apps.core.idempotency import idempotent
from apps.core.openapi import IDEMPOTENCY_KEY
from apps.customers import selectors, services
from apps.customers.api import serializers as s
from apps.customers.api.filters import CustomerFilter, LedgerFilter, LoyaltyFilter
from apps.customers.models import CustomerLedgerEntry, LoyaltyEntry

UUID_PATTERN = r"[0-9a-fA-F-]{36}"
SEARCH_COUNT_CAP = 1000
READ, WRITE = "customer:read", "customer:write"
SEARCH = OpenApiParameter(
    "search",
    OpenApiTypes.STR,
    description="Words found in the code, name, email or phone (digits) — all of them",
)


@extend_schema(tags=["customers"])
class CustomerGroupViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Customer groups and the discount their members get."""

    required_permission = {"get": READ, "post": WRITE, "patch": WRITE, "delete": WRITE}
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.CustomerGroupSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "discount_percent", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.customer_group_list()

    def _render(self, group, code=status.HTTP_200_OK) -> Response:
        return Response(
            s.CustomerGroupSerializer(selectors.customer_group_get(group_id=group.pk)).data,
            status=code,
        )

    @extend_schema(
        request=s.CustomerGroupInputSerializer,
        responses={201: s.CustomerGroupSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = s.CustomerGroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.customer_group_create(actor=request.user, **data.validated_data)
        return self._render(group, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CustomerGroupInputSerializer(partial=True),
        responses={200: s.CustomerGroupSerializer},
    )
    def partial_update(self, request, pk=None):
        group = selectors.customer_group_get(group_id=pk)  # 404 before 400
        data = s.CustomerGroupInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        group = services.customer_group_update(
            actor=request.user, group_id=group.pk, **data.validated_data
        )
        return self._render(group)

    @extend_schema(
        request=None,
        responses={200: s.CustomerGroupSerializer},
        parameters=[
            OpenApiParameter(
                "reassignTo",
                OpenApiTypes.STR,
                description="While customers use the group: another group's id (they move "
                "there) or `none` (they leave the group). Without it such a delete is 422.",
            )
        ],
    )
    def destroy(self, request, pk=None):
        group = selectors.customer_group_get(group_id=pk)
        deleted = services.customer_group_delete(
            actor=request.user, group_id=group.pk, reassign_to=_reassign_to(request)
        )
        deleted.customer_count = 0  # the service moved or refused every member
        return Response(s.CustomerGroupSerializer(deleted).data)


def _reassign_to(request):
    import uuid

    raw = request.query_params.get("reassign_to")  # camelCase middleware
    if raw is None:
        return UNSET
    if raw == "none":
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed.for_field("reassignTo", "Must be a group id or none.") from None


@extend_schema(tags=["customers"], responses={200: s.LoyaltyProgramSerializer})
class LoyaltyProgramView(APIView):
    """The company's loyalty program (set in the company settings)."""

    required_permission = READ

    def get(self, request):
        program = selectors.loyalty_program(tenant=getattr(request.user, "tenant", None))
        return Response(s.LoyaltyProgramSerializer(program).data)


@extend_schema(tags=["customers"])
class CustomerViewSet(
    ExportableListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Customers: contacts, group, credit limit, balance and loyalty points."""

    export_name = "customers"

    required_permission = {
        "get": READ,
        "post": WRITE,
        "patch": WRITE,
        "delete": WRITE,
        "balance_adjust": "ADMIN/MANAGER",
    }
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["name", "code", "balance", "loyalty_points", "created_at"]
    ordering = [Lower("name"), "id"]

    @property
    def count_cap(self) -> int | None:
        """A search counts at most 1,000 matches (`meta.totalCapped` beyond): a cashier needs
        the first page, and counting every customer named "an…" cost more than the page."""
        return SEARCH_COUNT_CAP if self.request.query_params.get("search", "").strip() else None

    def get_queryset(self):
        queryset = selectors.customer_list()
        text = self.request.query_params.get("search", "").strip()
        return selectors.customer_search(queryset, text) if text else queryset

    def get_object(self):
        return selectors.customer_get(customer_id=self.kwargs["pk"])

    def _render(self, customer, code=status.HTTP_200_OK) -> Response:
        customer = selectors.customer_get(customer_id=customer.pk)
        return Response(s.CustomerSerializer(customer).data, status=code)

    @extend_schema(parameters=[SEARCH])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.CustomerInputSerializer,
        responses={201: s.CustomerSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = s.CustomerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **data.validated_data)
        return self._render(customer, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CustomerInputSerializer(partial=True), responses={200: s.CustomerSerializer}
    )
    def partial_update(self, request, pk=None):
        customer = self.get_object()  # 404 before 400
        data = s.CustomerInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            actor=request.user, customer_id=customer.pk, **data.validated_data
        )
        return self._render(customer)

    @extend_schema(request=None, responses={200: s.CustomerSerializer})
    def destroy(self, request, pk=None):
        customer = self.get_object()
        deleted = services.customer_delete(actor=request.user, customer_id=customer.pk)
        return Response(s.CustomerSerializer(deleted).data)

    @extend_schema(
        request=s.LoyaltyAdjustInputSerializer,
        responses={200: s.LoyaltyEntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], url_path="loyalty/adjust")
    @idempotent
    def loyalty_adjust(self, request, pk=None):
        """Adds or takes points (never below zero), with a reason."""
        customer = self.get_object()
        data = s.LoyaltyAdjustInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.loyalty_adjust(
            actor=request.user, customer_id=customer.pk, **data.validated_data
        )
        return Response(s.LoyaltyEntrySerializer(entry).data)

    @extend_schema(
        request=s.BalanceAdjustInputSerializer,
        responses={200: s.LedgerEntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], url_path="balance/adjust")
    @idempotent
    def balance_adjust(self, request, pk=None):
        """Opening balances and corrections (managers and admins), with a reason."""
        customer = self.get_object()
        data = s.BalanceAdjustInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.customer_balance_adjust(
            actor=request.user, customer_id=customer.pk, **data.validated_data
        )
        return Response(s.LedgerEntrySerializer(entry).data)


class _CustomerHistoryView(generics.ListAPIView):
    """A customer's ledger, newest first (404 for a missing or deleted customer)."""

    required_permission = READ
    ordering_fields: list[str] = []
    ordering = ["-created_at", "-id"]


@extend_schema(tags=["customers"])
class CustomerLedgerView(_CustomerHistoryView):
    """Every change of what the customer owes, newest first."""

    serializer_class = s.LedgerEntrySerializer
    filterset_class = LedgerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerLedgerEntry.objects.none()
        return selectors.customer_ledger(customer_id=self.kwargs["pk"])


@extend_schema(tags=["customers"])
class LoyaltyHistoryView(_CustomerHistoryView):
    """Every change of the customer's loyalty points, newest first."""

    serializer_class = s.LoyaltyEntrySerializer
    filterset_class = LoyaltyFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LoyaltyEntry.objects.none()
        return selectors.loyalty_history(customer_id=self.kwargs["pk"])
