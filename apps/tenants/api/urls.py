from django.urls import path

from apps.tenants.api.views import (
    TenantProfileView,
    TenantSettingsView,
    TenantSubscriptionView,
)

urlpatterns = [
    path("tenants/me", TenantProfileView.as_view(), name="tenant-me"),
    path("tenants/me/settings", TenantSettingsView.as_view(), name="tenant-settings"),
    path("tenants/me/subscription", TenantSubscriptionView.as_view(), name="tenant-subscription"),
]
