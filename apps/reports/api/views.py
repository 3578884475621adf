from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ValidationFailed
from apps.core.filters import PERIOD, instant_bound, period_bounds
from apps.reports import selectors
from apps.reports.api import serializers as s
from apps.stores.selectors import store_get
from apps.tenants.selectors import company_time_zone

STORE_ID = OpenApiParameter("storeId", OpenApiTypes.UUID, required=False)
GROUP_BY = OpenApiParameter(
    "groupBy", str, enum=list(selectors.TRUNC), required=False, description="Series step (day)"
)


def _store_id(request):
    raw = request.query_params.get("store_id")
    if raw is None:
        return None
    try:
        store_id = uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed.for_field("storeId", "Must be a valid UUID.") from None
    return store_get(store_id=store_id).pk  # 404: not a location of the company


def _period(request) -> selectors.Period:
    time_zone = company_time_zone(request.user.tenant)
    start, end = period_bounds(request, time_zone=time_zone)
    group_by = request.query_params.get("group_by", "day")
    if group_by not in selectors.TRUNC:
        raise ValidationFailed.for_field("groupBy", "Must be one of: day, week, month.")
    return selectors.Period(start, end, time_zone, _store_id(request), group_by)


class ReportView(APIView):
    required_permission = "report:read"


@extend_schema(
    tags=["reports"], parameters=[*PERIOD, STORE_ID, GROUP_BY],
    responses={200: s.SalesReportSerializer},
)  # fmt: skip
class SalesReportView(ReportView):
    """Sales made in the period (voids excluded), their returns and voids, money taken by payment
    method, and a series by day, week or month in the company's time zone."""

    def get(self, request):
        report = selectors.sales_report(period=_period(request))
        return Response(s.SalesReportSerializer(report).data)


@extend_schema(
    tags=["reports"], parameters=[*PERIOD, STORE_ID, GROUP_BY],
    responses={200: s.ProfitReportSerializer},
)  # fmt: skip
class ProfitReportView(ReportView):
    """Revenue net of tax and returns, cost of goods from the costs stored on the sale lines,
    gross profit and margin, the period's expenses by category, net profit; by store and
    series."""

    def get(self, request):
        report = selectors.profit_report(period=_period(request))
        return Response(s.ProfitReportSerializer(report).data)


@extend_schema(
    tags=["reports"],
    parameters=[
        STORE_ID,
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
    responses={200: s.StockReportSerializer},
)
class StockReportView(ReportView):
    """Stock valuation per location and category at cost and at retail, and the low-stock
    count: now, or `asOf` a past date."""

    def get(self, request):
        as_of = None
        raw = request.query_params.get("as_of")
        if raw is not None:
            zone = ZoneInfo(company_time_zone(request.user.tenant))
            as_of = instant_bound(raw, zone, day_end=True)
            if as_of is None:
                raise ValidationFailed.for_field(
                    "asOf", "Must be a date (YYYY-MM-DD) or an ISO 8601 date-time."
                )
        report = selectors.stock_report(store_id=_store_id(request), as_of=as_of)
        return Response(s.StockReportSerializer(report).data)


@extend_schema(
    tags=["reports"], parameters=[*PERIOD, STORE_ID], responses={200: s.CashierReportSerializer}
)
class CashierReportView(ReportView):
    """Per cashier: sales, average basket, items per sale, discounts given, voids of their sales,
    refunds they made, and the cash variance of the shifts they closed."""

    def get(self, request):
        report = selectors.cashier_report(period=_period(request))
        return Response(s.CashierReportSerializer(report).data)
