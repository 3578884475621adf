from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.catalog.api import views

router = SimpleRouter(trailing_slash="")
router.register("products/categories", views.CategoryViewSet, basename="categories")
router.register("products/brands", views.BrandViewSet, basename="brands")
router.register("products/units", views.UnitViewSet, basename="units")
router.register("products/variant-types", views.VariantTypeViewSet, basename="variant-types")
router.register(
    r"products/status/(?P<status_slug>draft|archived|discontinued|coming-soon)",
    views.ProductStatusViewSet,
    basename="product-status",
)
router.register("products", views.ProductViewSet, basename="products")

urlpatterns = [
    path("products/bulk-import", views.BulkImportView.as_view(), name="products-bulk-import"),
    path(
        "products/lookup/barcode/<str:barcode>",
        views.BarcodeLookupView.as_view(),
        name="products-barcode",
    ),
    path(
        "products/<uuid:product_id>/variants/<uuid:variant_id>",
        views.ProductVariantView.as_view(),
        name="product-variant",
    ),
    *router.urls,
]
