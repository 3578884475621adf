"""The product lists' fast path (plain SQL rows rendered without a serializer pass) must send
exactly what ProductSerializer sends: same keys, same order, same value formats, for every role,
time zone and kind of row — and read a page with its total in one query."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.catalog import selectors
from apps.catalog.api.serializers import ProductSerializer
from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant, Unit
from apps.core import pagination
from apps.core.renderers import camelize

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products"


class _Request:
    def __init__(self, user) -> None:
        self.user = user


@pytest.fixture
def catalogue(world_a):
    """Rows of every shape: with and without category/brand/unit/barcode/tax rate, variants,
    images, nested snake_case attributes, big and zero prices, a whole-second timestamp."""
    with tenant_context(world_a.tenant):
        parent = Category.objects.create(name="Apparel")
        child = Category.objects.create(name="Shirts", parent=parent)
        brand = Brand.objects.create(name="Northwind")
        unit = Unit.objects.create(name="Kilogram", abbreviation="kg", allows_fraction=True)
        full = Product.objects.create(
            name="Alpha shirt", sku="ALPHA-1", barcode="5901234123457", category=child,
            brand=brand, unit=unit, status="ACTIVE", cost_price=Decimal("1234567.89"),
            sell_price=Decimal("9999999999.99"), tax_rate=Decimal("23.00"), track_stock=False,
            description="Soft, “cotton” — 100 %",
            attributes={"fabric_weight": 180, "care_notes": {"wash_at": "30C"}, "tags": ["a_b"]},
        )  # fmt: skip
        bare = Product.objects.create(name="Beta", sku="BETA-1", sell_price=Decimal("0.00"))
        for index in range(2):
            ProductImage.objects.create(product=full, image_id=uuid.uuid4(), position=index)
        ProductVariant.objects.create(product=full, name="S", sku="ALPHA-1-S", combination_key="s")
        ProductVariant.objects.create(
            product=full, name="M", sku="ALPHA-1-M", combination_key="m",
            deleted_at=timezone.now(),
        )  # fmt: skip
        whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        Product.objects.filter(pk=bare.pk).update(created_at=whole_second)
        Product.objects.create(name="Gone", sku="GONE-1", deleted_at=timezone.now())
    return world_a


def expected(world, user, **filters) -> list[dict]:
    """What ProductSerializer (the generic DRF path) renders for the same rows."""
    with tenant_context(world.tenant):
        products = list(selectors.product_list().filter(**filters).order_by("name", "id"))
        data = ProductSerializer(products, many=True, context={"request": _Request(user)}).data
    return json.loads(json.dumps(camelize(data)))


def listed(api, user, url=PRODUCTS, **params) -> list[dict]:
    response = api(user).get(url, {"limit": 100, "sort": "name", **params})
    assert response.status_code == 200, response.json()
    return response.json()["data"]


@pytest.mark.parametrize("role", ["admin", "cashier"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Lisbon", "Asia/Kolkata"])
def test_list_rows_are_exactly_the_serializers(api, catalogue, role, zone):
    user = getattr(catalogue, role)
    with timezone.override(zone):
        want = expected(catalogue, user)
        got = listed(api, user)
    assert json.dumps(got) == json.dumps(want)  # same keys, order and values
    alpha = next(row for row in got if row["sku"] == "ALPHA-1")
    assert alpha["costPrice"] == (None if role == "cashier" else "1234567.8900")
    assert alpha["sellPrice"] == "9999999999.99" and alpha["taxRate"] == "23.00"
    assert alpha["attributes"] == {"fabricWeight": 180, "careNotes": {"washAt": "30C"},
                                   "tags": ["a_b"]}  # fmt: skip
    assert alpha["variantCount"] == 1 and len(alpha["imageUrls"]) == 2
    beta = next(row for row in got if row["sku"] == "BETA-1")
    assert beta["category"] is None and beta["brand"] is None and beta["taxRate"] is None
    if zone == "UTC":
        assert beta["createdAt"] == "2026-01-02T03:04:05Z"


def test_status_view_rows_are_exactly_the_serializers(api, catalogue):
    got = listed(api, catalogue.manager, f"{PRODUCTS}/status/draft")
    assert json.dumps(got) == json.dumps(expected(catalogue, catalogue.manager, status="DRAFT"))
    assert {row["sku"] for row in got} == {"BETA-1"}


def test_a_page_and_its_total_are_one_query(api, catalogue):
    client = api(catalogue.admin)
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as captured:
        body = client.get(PRODUCTS, {"limit": 2, "page": 2, "sort": "name"}).json()
    catalog = [q["sql"] for q in captured.captured_queries if "catalog_" in q["sql"]]
    assert len(catalog) == 1, catalog
    assert body["meta"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    assert [row["sku"] for row in body["data"]] == ["P-100"]  # Alpha shirt, Beta | Cola 330ml


def test_pages_past_the_end_and_empty_results_still_count(api, catalogue):
    client = api(catalogue.admin)
    past = client.get(PRODUCTS, {"limit": 50, "page": 9}).json()
    assert past["data"] == [] and past["meta"]["total"] == 3
    none = client.get(PRODUCTS, {"search": "no such thing"}).json()
    assert none["data"] == [] and none["meta"] == {"page": 1, "limit": 20, "total": 0,
                                                   "totalPages": 0}  # fmt: skip


def test_deep_pages_count_first_and_read_the_same_rows(api, catalogue, monkeypatch):
    one_query = listed(api, catalogue.admin, limit=1, page=3)
    monkeypatch.setattr(pagination, "ONE_QUERY_MAX_OFFSET", 0)
    client = api(catalogue.admin)
    client.get("/api/auth/me")
    with CaptureQueriesContext(connection) as captured:
        body = client.get(PRODUCTS, {"limit": 1, "page": 3, "sort": "name"}).json()
    catalog = [q["sql"] for q in captured.captured_queries if "catalog_" in q["sql"]]
    assert len(catalog) == 2  # the count, then the page
    assert [row["sku"] for row in body["data"]] == ["P-100"]
    assert body["data"] == one_query and body["meta"]["total"] == 3
