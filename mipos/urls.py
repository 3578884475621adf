from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from apps.core.views import (
    api_not_found,
    health,
    health_live,
    landing,
    metrics_view,
    reset_password_page,
)

docs_options = {"authentication_classes": [], "permission_classes": [AllowAny]}

# Each app owns its own path prefixes (no two overlap), so the order only decides how many
# patterns a request is matched against: the catalogue (the till's barcode scan) goes first.
api_v1 = [
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.users.api.urls")),
    path("", include("apps.stores.api.urls")),
    path("", include("apps.inventory.api.urls")),
    path("", include("apps.customers.api.urls")),
    path("", include("apps.sales.api.urls")),
    path("", include("apps.pos.api.urls")),
    path("", include("apps.expenses.api.urls")),
    path("", include("apps.purchasing.api.urls")),
    path("", include("apps.receipts.api.urls")),
    path("", include("apps.reports.api.urls")),
    path("", include("apps.lookups.api.urls")),
    path("", include("apps.media.api.urls")),
    path("", include("apps.tenants.api.urls")),
    path("", include("apps.audit.api.urls")),
    path("", include("apps.superadmin.api.urls")),
    path("", include("apps.devtools.api.urls")),
]

urlpatterns = [
    path("", landing, name="landing"),
    path("reset-password", reset_password_page, name="reset-password-page"),  # PUBLIC_URL's
    path("health", health, name="health"),
    path("health/ready", health, name="health-ready"),
    path("health/live", health_live, name="health-live"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/auth/", include("apps.users.api.auth_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema", SpectacularAPIView.as_view(**docs_options), name="schema"),
    path(
        "api/docs", SpectacularSwaggerView.as_view(url_name="schema", **docs_options), name="docs"
    ),
    path(
        "api/redoc", SpectacularRedocView.as_view(url_name="schema", **docs_options), name="redoc"
    ),
    # [\s\S], not ".": an encoded path may hold a newline (%0A); not the (?s) flag either,
    # which Django's URL reversing refuses
    re_path(r"^api(?:/[\s\S]*)?$", api_not_found),
    # any other path: the same JSON 404, never Django's DEBUG page listing every route
    re_path(r"^[\s\S]*$", api_not_found),
]

handler500 = "apps.core.views.server_error"
