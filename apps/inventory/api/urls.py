from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.inventory.api import views

router = SimpleRouter(trailing_slash="")
router.register("inventory/transfers", views.TransferViewSet, basename="transfers")
router.register("inventory/counts", views.CountViewSet, basename="counts")

urlpatterns = [
    path("inventory/stock", views.StockLevelListView.as_view(), name="stock-levels"),
    path("inventory/stock/low", views.LowStockListView.as_view(), name="stock-low"),
    path("inventory/stock/adjust", views.StockAdjustView.as_view(), name="stock-adjust"),
    path("inventory/stock/set", views.StockSetView.as_view(), name="stock-set"),
    path(
        "inventory/stock/<uuid:store_id>/<uuid:product_id>/threshold",
        views.StockThresholdView.as_view(),
        name="stock-threshold",
    ),
    path("inventory/movements", views.MovementListView.as_view(), name="stock-movements"),
    *router.urls,
]
