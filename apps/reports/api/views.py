from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import exports
from apps.core.errors import ValidationFailed
from apps.core.exports import ExportableListMixin
from apps.core.filters import PERIOD, instant_param, period_bounds, query_uuid
from apps.core.negotiation import OwnFormatNegotiation
from apps.core.replica import DATA_AS_OF_HEADER, ReplicaReadsMixin
from apps.core.validation import validate_currency
from apps.reports import analytics, selectors, tables
from apps.reports.api import serializers as s
from apps.sales.models import SaleItem
from apps.stores.selectors import store_get, store_list
from apps.tenants.models import PlanFeature
from apps.tenants.selectors import company_currency, company_time_zone

STORE_ID = OpenApiParameter("storeId", OpenApiTypes.UUID, required=False)
GROUP_BY = OpenApiParameter(
    "groupBy", str, enum=list(selectors.TRUNC), required=False, description="Series step (day)"
)


def _store_id(request):
    store_id = query_uuid(request, "store_id")
    return None if store_id is None else store_get(store_id=store_id).pk  # 404: not ours


def _period(request) -> selectors.Period:
    time_zone = company_time_zone(request.user.tenant)
    start, end = period_bounds(request, time_zone=time_zone)
    group_by = request.query_params.get("group_by", "day")
    if group_by not in selectors.TRUNC:
        raise ValidationFailed.for_field("groupBy", "Must be one of: day, week, month.")
    return selectors.Period(start, end, time_zone, _store_id(request), group_by)


# The response header of every report (apps.core.replica); JSON bodies repeat it in meta.
DATA_AS_OF = OpenApiParameter(
    DATA_AS_OF_HEADER,
    OpenApiTypes.DATETIME,
    OpenApiParameter.HEADER,
    response=True,
    description="When the figures are from (ISO 8601 UTC): the read replica's time, now when read"
    " on the primary; JSON bodies also carry it as `meta.dataAsOf`",
)
FORMAT = OpenApiParameter(
    "format", str, enum=list(exports.FORMATS), required=False, description="json (default)"
)


def responses(serializer) -> dict:
    return {
        (200, "application/json"): serializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The main list"),
        (200, exports.XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="Typed cells"),
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="A table"),
    }


class ReportView(ReplicaReadsMixin, APIView):
    """A report as JSON, or `?format=csv|xlsx|pdf` its main list as a file (tables.py); read
    from the replica when one is fit (apps.core.replica), its data's time in `meta.dataAsOf`
    and `X-Data-As-Of`."""

    required_permission = "report:read"
    content_negotiation_class = OwnFormatNegotiation
    name = ""
    serializer_class: type = s.SalesReportSerializer

    def export_requested(self, request) -> bool:
        return exports.file_requested(request)

    def answer(self, request, report: dict):
        output = request.query_params.get("format", "json")
        if output not in exports.FORMATS:
            raise ValidationFailed.for_field("format", "Must be one of: json, csv, xlsx, pdf.")
        if output == "json":
            return Response(self.serializer_class(report).data)
        filters = {
            name: request.query_params.get(name)
            for name in ("from", "to", "store_id", "group_by", "as_of", "currency")
        }
        table = tables.report_table(self.name, report, filters)
        name = f"{self.name}-report"
        if output == "csv":
            return exports.csv_response(table.keys, table.rows, name=name)
        if output == "xlsx":
            return exports.xlsx_response(table.keys, table.rows, name=name, summary=table.summary)
        return exports.pdf_response(
            table.keys,
            table.rows,
            name=name,
            title=table.title,
            company=request.user.tenant.name,
            summary=table.summary,
        )


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, GROUP_BY, FORMAT],
    responses=responses(s.SalesReportSerializer),
)
class SalesReportView(ReportView):
    """Sales made in the period (voids excluded), their returns and voids, money taken by payment
    method, and a series by day, week or month in the company's time zone."""

    name, serializer_class = "sales", s.SalesReportSerializer

    def get(self, request):
        return self.answer(request, selectors.sales_report(period=_period(request)))


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, GROUP_BY, FORMAT],
    responses=responses(s.ProfitReportSerializer),
)
class ProfitReportView(ReportView):
    """Revenue net of tax and returns, cost of goods from the costs stored on the sale lines,
    gross profit and margin, the period's expenses by category, net profit; by store and
    series."""

    name, serializer_class = "profit", s.ProfitReportSerializer

    def get(self, request):
        return self.answer(request, selectors.profit_report(period=_period(request)))


@extend_schema(
    tags=["reports"],
    parameters=[
        DATA_AS_OF,
        STORE_ID,
        FORMAT,
        OpenApiParameter(
            "asOf",
            {
                "anyOf": [
                    {"type": "string", "format": "date"},
                    {"type": "string", "format": "date-time"},
                ]
            },
            required=False,
            description="The stock at the end of this day (company time zone) or at this instant,"
            " replayed from the movement ledger",
        ),
    ],
    responses=responses(s.StockReportSerializer),
)
class StockReportView(ReportView):
    """Stock valuation per location and category at cost and at retail, and the low-stock
    count: now, or `asOf` a past date."""

    name, serializer_class = "stock", s.StockReportSerializer

    def get(self, request):
        zone = ZoneInfo(company_time_zone(request.user.tenant))
        as_of = instant_param(request, "as_of", zone, day_end=True)  # 400 naming asOf
        return self.answer(
            request, selectors.stock_report(store_id=_store_id(request), as_of=as_of)
        )


TAX_GROUP_BY = ("day", "month")


@extend_schema(
    tags=["reports"],
    parameters=[
        DATA_AS_OF,
        *PERIOD,
        STORE_ID,
        OpenApiParameter(
            "groupBy",
            str,
            enum=list(TAX_GROUP_BY),
            required=False,
            description="Also per day or month of the company's calendar (`periods`)",
        ),
        OpenApiParameter(
            "currency",
            str,
            required=False,
            description="The documents made in this currency (default: the company's)",
        ),
        FORMAT,
    ],
    responses=responses(s.TaxReportSerializer),
)
class TaxReportView(ReportView):
    """Per tax rate: the taxable base, the tax and the gross of the period's sales and of its
    returns, and the net of both (what a VAT return is filled from); totals; with `groupBy`,
    the same per day or month."""

    name, serializer_class = "tax", s.TaxReportSerializer

    def get(self, request):
        group_by = request.query_params.get("group_by")
        if group_by is not None and group_by not in TAX_GROUP_BY:
            raise ValidationFailed.for_field("groupBy", "Must be one of: day, month.")
        raw = request.query_params.get("currency")
        currency = company_currency() if raw is None else validate_currency(raw, field="currency")
        report = selectors.tax_report(
            period=_period(request), currency=currency, series=group_by is not None
        )
        return self.answer(request, report)


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, FORMAT],
    responses=responses(s.CashierReportSerializer),
)
class CashierReportView(ReportView):
    """Per cashier: sales, average basket, items per sale, discounts given, voids of their sales,
    refunds they made, and the cash variance of the shifts they closed."""

    name, serializer_class = "cashier", s.CashierReportSerializer

    def get(self, request):
        return self.answer(request, selectors.cashier_report(period=_period(request)))


@extend_schema(
    tags=["analytics"],
    parameters=[
        DATA_AS_OF,
        *PERIOD,
        STORE_ID,
        OpenApiParameter(
            "minSupport", OpenApiTypes.DECIMAL, required=False, description="0-1, default 0.01"
        ),
        OpenApiParameter(
            "minConfidence", OpenApiTypes.DECIMAL, required=False, description="0-1, default 0.1"
        ),
        OpenApiParameter("limit", int, required=False, description="1-100, default 20"),
        OpenApiParameter(
            "excludeProductIds",
            str,
            required=False,
            description="Comma-separated product ids (bags, gift cards…)",
        ),
    ],
    responses={200: s.MarketBasketSerializer},
)
class MarketBasketView(ReportView):
    required_feature = PlanFeature.ANALYTICS
    """Products bought together: rules A → B with support, confidence and lift."""

    name, serializer_class = "market-basket", s.MarketBasketSerializer

    def get(self, request):
        query = s.MarketBasketQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        options = query.validated_data
        report = analytics.market_basket(
            period=_period(request),
            min_support=options["min_support"],
            min_confidence=options["min_confidence"],
            limit=options["limit"],
            exclude_product_ids=options["exclude_product_ids"],
        )
        return Response(s.MarketBasketSerializer(report).data)


def _whole_number(request, name: str, public: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high] (`public`: its wire name, for a 400)."""
    raw = request.query_params.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed.for_field(public, f"Must be a whole number from {low} to {high}.")
    return int(raw)


def _limit(request, default: int = 10) -> int:
    return _whole_number(request, "limit", "limit", default, 1, 100)


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, OpenApiParameter("limit", int, required=False)],
    responses={200: s.SalesSummarySerializer},
)
class SalesSummaryView(ReportView):
    """Top products and categories, and sales by weekday and hour (company time zone)."""

    name, serializer_class = "sales-summary", s.SalesSummarySerializer

    def get(self, request):
        report = selectors.sales_summary(period=_period(request), limit=_limit(request))
        return Response(s.SalesSummarySerializer(report).data)


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID],
    responses={200: s.FinancialReportSerializer},
)
class FinancialReportView(ReportView):
    """The period's P&L and payments by method; receivables by age and payables as they stand."""

    name, serializer_class = "financial", s.FinancialReportSerializer

    def get(self, request):
        report = selectors.financial_report(period=_period(request), now=timezone.now())
        return Response(s.FinancialReportSerializer(report).data)


@extend_schema(
    tags=["reports"],
    parameters=[
        DATA_AS_OF,
        *PERIOD,
        STORE_ID,
        OpenApiParameter("limit", int, required=False, description="Slow movers, dead stock"),
        OpenApiParameter("deadStockDays", int, required=False, description="Default 90"),
    ],
    responses={200: s.InventoryReportSerializer},
)
class InventoryReportView(ReportView):
    """Per product from the ledger: opening, in and out by movement type, closing; slow movers
    and dead stock."""

    name, serializer_class = "inventory", s.InventoryReportSerializer

    def get(self, request):
        raw = request.query_params.get("dead_stock_days", "90")
        if not raw.isdigit() or not 1 <= int(raw) <= 3650:
            raise ValidationFailed.for_field("deadStockDays", "Must be a whole number of days.")
        report = selectors.inventory_report(
            period=_period(request),
            now=timezone.now(),
            dead_stock_days=int(raw),
            limit=_limit(request),
        )
        return Response(s.InventoryReportSerializer(report).data)


@extend_schema(
    tags=["analytics"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID],
    responses={200: s.TrendsSerializer},
)
class TrendsView(ReportView):
    required_feature = PlanFeature.ANALYTICS
    """Period over period: the sales totals of `from`..`to` against the same length before."""

    name, serializer_class = "trends", s.TrendsSerializer

    def get(self, request):
        return Response(s.TrendsSerializer(analytics.trends(period=_period(request))).data)


@extend_schema(
    tags=["analytics"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, OpenApiParameter("limit", int, required=False)],
    responses={200: s.TopProductSerializer(many=True)},
)
class TopProductsView(ReportView):
    required_feature = PlanFeature.ANALYTICS
    """The best sellers of the period by what their lines took (the sales summary's list)."""

    name, serializer_class = "top-products", s.TopProductSerializer

    def get(self, request):
        products = selectors.top_products(period=_period(request), limit=_limit(request))
        return Response(s.TopProductSerializer(products, many=True).data)


@extend_schema(
    tags=["analytics"],
    parameters=[
        DATA_AS_OF,
        STORE_ID,
        OpenApiParameter("days", int, required=False, description="Sales looked at (30)"),
        OpenApiParameter("leadTimeDays", int, required=False, description="Default 7"),
        OpenApiParameter("safetyDays", int, required=False, description="Default 3"),
        OpenApiParameter("limit", int, required=False, description="Default 50"),
    ],
    responses={200: s.ReorderSuggestionsSerializer},
)
class ReorderSuggestionsView(ReportView):
    required_feature = PlanFeature.ANALYTICS
    """What to order: sales velocity x (lead time + safety) against stock and open orders."""

    name, serializer_class = "reorder-suggestions", s.ReorderSuggestionsSerializer

    def get(self, request):
        report = analytics.reorder_suggestions(
            now=timezone.now(),
            store_id=_store_id(request),
            days=_whole_number(request, "days", "days", 30, 1, 365),
            lead_time_days=_whole_number(request, "lead_time_days", "leadTimeDays", 7, 0, 365),
            safety_days=_whole_number(request, "safety_days", "safetyDays", 3, 0, 365),
            limit=_limit(request, default=50),
        )
        return Response(s.ReorderSuggestionsSerializer(report).data)


@extend_schema(
    tags=["reports"],
    parameters=[DATA_AS_OF, *PERIOD, STORE_ID, FORMAT],
    responses=responses(s.SaleLineSerializer(many=True)),
)
class SaleLinesView(ExportableListMixin, generics.ListAPIView):
    """Every line of the period's sales (voids excluded), oldest first: paginated as JSON;
    `?format=csv` streams them all (XLSX, PDF as the other exports)."""

    required_permission = "report:read"
    serializer_class = s.SaleLineSerializer
    export_name = "sale-lines"
    export_totals = ("quantity", "discount", "tax", "total")  # the Summary sheet's figures
    filter_backends: list = []  # the period and the store are the filters

    def replica_reads_wanted(self, request) -> bool:
        return True  # a report, as JSON pages too

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SaleItem.objects.none()
        return selectors.sale_line_list(period=_period(self.request))


# --- the dashboards (their figures are the reports' own) ----------------------------------------


@extend_schema(tags=["tenants"])
class TenantDashboardView(APIView):
    required_permission = "tenant:manage"

    @extend_schema(responses={200: s.TenantDashboardSerializer})
    def get(self, request):
        return Response(
            s.TenantDashboardSerializer(selectors.tenant_dashboard(tenant=request.user.tenant)).data
        )


@extend_schema(tags=["stores"])
class StoreStatsViewSet(viewsets.GenericViewSet):
    # GET /stores/{id}/stats, beside the stores' own routes (apps.stores.api); the docstring is
    # the OpenAPI description of the operation, the same as theirs
    """Stores (RETAIL) and storages (WAREHOUSE) of the company."""

    required_permission = "store:manage"

    def get_queryset(self):
        return store_list()

    def get_object(self):
        return store_get(store_id=self.kwargs["pk"])

    @extend_schema(responses={200: s.StoreStatsSerializer})
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(s.StoreStatsSerializer(selectors.store_stats(store=self.get_object())).data)
