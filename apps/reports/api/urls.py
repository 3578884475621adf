from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.reports.api import views

urlpatterns = [
    path("reports/sales", views.SalesReportView.as_view(), name="report-sales"),
    path("reports/profit", views.ProfitReportView.as_view(), name="report-profit"),
    path("reports/stock", views.StockReportView.as_view(), name="report-stock"),
    path("reports/cashier", views.CashierReportView.as_view(), name="report-cashier"),
    path("reports/tax", views.TaxReportView.as_view(), name="report-tax"),
    path("reports/sales-summary", views.SalesSummaryView.as_view(), name="report-sales-summary"),
    path("reports/sale-lines", views.SaleLinesView.as_view(), name="report-sale-lines"),
    path("reports/inventory", views.InventoryReportView.as_view(), name="report-inventory"),
    path("reports/financial", views.FinancialReportView.as_view(), name="report-financial"),
    path("analytics/trends", views.TrendsView.as_view(), name="analytics-trends"),
    path("analytics/top-products", views.TopProductsView.as_view(), name="analytics-top-products"),
    path(
        "analytics/reorder-suggestions",
        views.ReorderSuggestionsView.as_view(),
        name="analytics-reorder-suggestions",
    ),
    path("analytics/market-basket", views.MarketBasketView.as_view(), name="market-basket"),
    path("tenants/me/dashboard", views.TenantDashboardView.as_view(), name="tenant-dashboard"),
]

# GET /stores/{id}/stats: the stores' router names (stores-stats), beside apps.stores.api's routes
stats_router = SimpleRouter(trailing_slash="")
stats_router.register("stores", views.StoreStatsViewSet, basename="stores")
urlpatterns += stats_router.urls
