"""The barcode scan's query count in both cache modes (issue 7, defect 5): with a shared cache
(Redis in production; a LocMem cache stands in for it here) the user and the company settings come
from it, so a scan is one query (two for a variant barcode); without one, both are read per request
(two more queries) instead of being kept, possibly stale, in this process."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import caches as caches_handler
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

SHARED = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hot-path"}
LOOKUP = "/api/v1/products/lookup/barcode/"


def scan_queries(client, code: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LOOKUP + code).status_code == 200
    # a bare `SET search_path` is bookkeeping, not a read; the auth statement carries one
    return [
        q["sql"]
        for q in captured.captured_queries
        if not (q["sql"].startswith("SET ") and "EXECUTE" not in q["sql"])
    ]


@pytest.mark.parametrize(
    "shared, product_queries, variant_queries",
    [(None, 2, 3), (SHARED, 1, 2)],
    ids=["no-shared-cache", "shared-cache"],
)
def test_barcode_scan_queries(api, world_a, shared, product_queries, variant_queries):
    caches = settings.CACHES if shared is None else {**settings.CACHES, "shared": shared}
    with override_settings(CACHES=caches):
        caches_handler["shared"].clear()
        client = api(world_a.cashier)
        # warm whatever may be cached, and prepare the lookups on this session
        client.get(LOOKUP + "4006381333931")
        client.get(LOOKUP + "96385074")
        product = scan_queries(client, "4006381333931")
        variant = scan_queries(client, "96385074")
        caches_handler["shared"].clear()
    assert len(product) == product_queries, product
    assert len(variant) == variant_queries, variant
    # the lookups run as statements prepared for this company's schema (apps.catalog.selectors)
    # (with the shared cache the first of them also carries the search path)
    assert re.search(r"EXECUTE mipos_barcode_product_v1_\d+\('4006381333931'\)$", product[-1])
    assert re.search(r"EXECUTE mipos_barcode_product_v1_\d+\('96385074'\)$", variant[-2])
    assert re.search(r"^EXECUTE mipos_barcode_variant_v1_\d+\('96385074'\)$", variant[-1])
    if shared is None:  # the user and the settings are read, fresh, on every scan, in one query
        # the prepared statement joins user, company and settings (apps.users.selectors)
        assert "EXECUTE mipos_auth_user_v4(" in product[0]
