from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.pos.api import views

router = SimpleRouter(trailing_slash="")
router.register("pos/shifts", views.ShiftViewSet, basename="pos-shifts")
router.register("pos/carts", views.CartViewSet, basename="pos-carts")
router.register("pos/sales", views.TillSalesView, basename="pos-sales")

urlpatterns = [
    path("pos/context", views.ContextView.as_view(), name="pos-context"),
    path("pos/products", views.TillProductsView.as_view(), name="pos-products"),
    path("pos/customers", views.TillCustomersView.as_view(), name="pos-customers"),
    *router.urls,
]
