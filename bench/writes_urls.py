"""bench/writes.py's URLconf: the bare write views (bench/writes_bare.py) beside everything
bench/bare_urls.py serves (the bare barcode view and the product's URLs). Bench-only."""

from django.urls import include, path

from bench import writes_bare

urlpatterns = [
    path("bare/inventory/stock/adjust", writes_bare.BareAdjustView.as_view()),
    path("bare/sales/checkout", writes_bare.BareCheckoutView.as_view()),
    path("bare/payments/collect-due", writes_bare.BareCollectDueView.as_view()),
    path("bare/inventory/transfers/<uuid:pk>/ship", writes_bare.BareTransferShipView.as_view()),
    path("", include("bench.bare_urls")),
]
