from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exports import ExportableListMixin
from apps.core.filters import StrictFilterBackend
from apps.expenses import selectors, services
from apps.expenses.api import serializers as s
from apps.expenses.api.filters import DAYS, ExpenseFilter

UUID_PATTERN = r"[0-9a-fA-F-]{36}"
READ, WRITE = "expense:read", "expense:write"


@extend_schema(tags=["expenses"])
class ExpenseCategoryViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Expense categories (rent, wages, utilities…)."""

    required_permission = {"get": READ, "post": WRITE, "delete": WRITE}
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.ExpenseCategorySerializer
    search_fields = ["name"]
    ordering_fields: list[str] = []

    def get_queryset(self):
        return selectors.category_list()

    @extend_schema(
        request=s.ExpenseCategoryInputSerializer, responses={201: s.ExpenseCategorySerializer}
    )
    def create(self, request):
        data = s.ExpenseCategoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.expense_category_create(actor=request.user, **data.validated_data)
        return Response(s.ExpenseCategorySerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ExpenseCategorySerializer})
    def destroy(self, request, pk=None):
        """Deletes a category no expense uses (422 IN_USE otherwise)."""
        category = selectors.category_get(category_id=pk)
        deleted = services.expense_category_delete(actor=request.user, category_id=category.pk)
        return Response(s.ExpenseCategorySerializer(deleted).data)


@extend_schema(tags=["expenses"], parameters=DAYS, responses={200: s.ExpenseSummarySerializer})
class ExpenseSummaryView(APIView):
    """Totals of the expenses the list would show for the same filters: overall, by category,
    by store and by month."""

    required_permission = READ
    filterset_class = ExpenseFilter  # the list's filters, applied the list's way

    def get(self, request):
        expenses = StrictFilterBackend().filter_queryset(request, selectors.expense_list(), self)
        return Response(s.ExpenseSummarySerializer(selectors.expense_summary(expenses)).data)


@extend_schema(tags=["expenses"])
class ExpenseViewSet(
    ExportableListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What the company spends, newest day first."""

    export_name = "expenses"

    required_permission = {"get": READ, "post": WRITE, "patch": WRITE, "delete": WRITE}
    lookup_value_regex = UUID_PATTERN
    serializer_class = s.ExpenseSerializer
    filterset_class = ExpenseFilter
    ordering_fields = ["date", "amount", "created_at"]
    ordering = ["-date", "-created_at", "-id"]

    def get_queryset(self):
        return selectors.expense_list()

    def get_object(self):
        return selectors.expense_get(expense_id=self.kwargs["pk"])

    @extend_schema(parameters=DAYS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _render(self, expense, code=status.HTTP_200_OK) -> Response:
        return Response(
            s.ExpenseSerializer(selectors.expense_get(expense_id=expense.pk)).data, status=code
        )

    @extend_schema(request=s.ExpenseInputSerializer, responses={201: s.ExpenseSerializer})
    def create(self, request):
        data = s.ExpenseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expense = services.expense_create(actor=request.user, **data.validated_data)
        return self._render(expense, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ExpenseInputSerializer(partial=True), responses={200: s.ExpenseSerializer}
    )
    def partial_update(self, request, pk=None):
        expense = self.get_object()  # 404 before 400
        data = s.ExpenseInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.expense_update(actor=request.user, expense_id=expense.pk, **data.validated_data)
        return self._render(expense)

    @extend_schema(responses={200: s.ExpenseSerializer})
    def destroy(self, request, pk=None):
        expense = self.get_object()
        deleted = services.expense_delete(actor=request.user, expense_id=expense.pk)
        return Response(s.ExpenseSerializer(deleted).data)
