from rest_framework.routers import SimpleRouter

from apps.purchasing.api import views

router = SimpleRouter(trailing_slash="")
router.register("suppliers", views.SupplierViewSet, basename="suppliers")
router.register("purchases", views.PurchaseViewSet, basename="purchases")

urlpatterns = router.urls
