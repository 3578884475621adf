from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.sales.api import views

router = SimpleRouter(trailing_slash="")
router.register("sales", views.SaleViewSet, basename="sales")
router.register("payments", views.PaymentViewSet, basename="payments")

urlpatterns = [
    path("payments/collect-due", views.CollectDueView.as_view(), name="payments-collect-due"),
    path(
        "payments/customer/<uuid:customer_id>",
        views.CustomerPaymentsView.as_view(),
        name="payments-customer",
    ),
    *router.urls,
]
