from rest_framework.routers import SimpleRouter

from apps.sales.api import views

router = SimpleRouter(trailing_slash="")
router.register("sales", views.SaleViewSet, basename="sales")

urlpatterns = router.urls
