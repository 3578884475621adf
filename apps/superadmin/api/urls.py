from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.superadmin.api import views

router = SimpleRouter(trailing_slash="")
router.register("super-admin/tenants", views.TenantAdminViewSet, basename="super-admin-tenants")
router.register("super-admin/packages", views.PackageViewSet, basename="super-admin-packages")
router.register("super-admin/admins", views.SuperAdminViewSet, basename="super-admin-admins")
router.register("super-admin/users", views.PlatformUserViewSet, basename="super-admin-users")

urlpatterns = [
    path("super-admin/stats", views.PlatformStatsView.as_view(), name="super-admin-stats"),
    *router.urls,
]
