from rest_framework.routers import SimpleRouter

from apps.stores.api.views import StoreViewSet

router = SimpleRouter(trailing_slash="")
router.register("stores", StoreViewSet, basename="stores")

urlpatterns = router.urls
