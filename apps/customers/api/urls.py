from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.customers.api import views

router = SimpleRouter(trailing_slash="")
router.register("customers/groups", views.CustomerGroupViewSet, basename="customer-groups")
router.register("customers", views.CustomerViewSet, basename="customers")

urlpatterns = [
    path(
        "customers/loyalty/program",
        views.LoyaltyProgramView.as_view(),
        name="customers-loyalty-program",
    ),
    path("customers/<uuid:pk>/ledger", views.CustomerLedgerView.as_view(), name="customer-ledger"),
    path(
        "customers/<uuid:pk>/loyalty", views.LoyaltyHistoryView.as_view(), name="customer-loyalty"
    ),
    *router.urls,
]
