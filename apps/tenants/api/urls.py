from rest_framework.routers import SimpleRouter

from apps.tenants.api.views import SuperAdminTenantViewSet

router = SimpleRouter(trailing_slash="")
router.register("super-admin/tenants", SuperAdminTenantViewSet, basename="super-admin-tenants")

urlpatterns = router.urls
