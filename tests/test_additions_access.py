"""The MIPOS additions that are not rows of the contract CSV (brands, units, variant types,
status views, images, lookups): the same permission and isolation guarantees, generated over a
table of their endpoints."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Brand, Product, Unit, VariantType
from apps.core.roles import role_has_permission
from apps.users.models import User
from conftest import bearer

pytestmark = pytest.mark.django_db

# (method, path template, permission); {ref} ids belong to tenant A
ENDPOINTS = [
    ("GET", "/api/v1/products/brands", "product:read"),
    ("POST", "/api/v1/products/brands", "product:write"),
    ("GET", "/api/v1/products/brands/{brand}", "product:read"),
    ("PATCH", "/api/v1/products/brands/{brand}", "product:write"),
    ("DELETE", "/api/v1/products/brands/{brand}", "product:write"),
    ("GET", "/api/v1/products/units", "product:read"),
    ("POST", "/api/v1/products/units", "product:write"),
    ("GET", "/api/v1/products/units/{unit}", "product:read"),
    ("PATCH", "/api/v1/products/units/{unit}", "product:write"),
    ("DELETE", "/api/v1/products/units/{unit}", "product:write"),
    ("GET", "/api/v1/products/variant-types", "product:read"),
    ("POST", "/api/v1/products/variant-types", "product:write"),
    ("GET", "/api/v1/products/variant-types/{variant_type}", "product:read"),
    ("PATCH", "/api/v1/products/variant-types/{variant_type}", "product:write"),
    ("DELETE", "/api/v1/products/variant-types/{variant_type}", "product:write"),
    ("GET", "/api/v1/products/status/draft", "product:read"),
    ("GET", "/api/v1/products/status/draft/count", "product:read"),
    ("GET", "/api/v1/products/status/draft/{draft_product}", "product:read"),
    ("POST", "/api/v1/products/{product}/images", "product:write"),
    ("GET", "/api/v1/lookups/products", "product:read"),
    ("GET", "/api/v1/lookups/categories", "category:read"),
    ("GET", "/api/v1/lookups/brands", "product:read"),
    ("GET", "/api/v1/lookups/units", "product:read"),
    ("GET", "/api/v1/lookups/variant-types", "product:read"),
    ("GET", "/api/v1/lookups/stores", "authenticated"),
    ("GET", "/api/v1/lookups/users", "ADMIN/MANAGER"),
]
ROLES = ["SUPER_ADMIN", "ADMIN", "MANAGER", "CASHIER"]


@pytest.fixture
def refs(world_a):
    with tenant_context(world_a.tenant):
        brand = Brand.objects.create(name="Ref brand")
        unit = Unit.objects.create(name="Ref unit", abbreviation="ru")
        draft = Product.objects.create(name="Draft thing", sku="DRAFT-1", status="DRAFT")
        return {
            "brand": brand.pk,
            "unit": unit.pk,
            "variant_type": VariantType.objects.get(name="Size").pk,
            "draft_product": draft.pk,
            "product": world_a.product.pk,
        }


def caller(role, world):
    if role == "SUPER_ADMIN":
        return User.objects.get(email="root@platform.test")
    return world.user(role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "method, path, permission", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
def test_role_is_allowed_or_refused(client, world_a, refs, role, method, path, permission):
    response = client.generic(
        method,
        path.format(**refs),
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(caller(role, world_a)),
    )
    if role_has_permission(role, permission):
        assert response.status_code not in (401, 403, 404, 405), response.content[:200]
    else:
        assert response.status_code == 403, response.content[:200]


ID_ENDPOINTS = [e for e in ENDPOINTS if "{" in e[1]]


@pytest.mark.parametrize(
    "method, path, permission", ID_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ID_ENDPOINTS]
)
def test_other_tenants_ids_are_404(client, world_a, world_b, refs, method, path, permission):
    with tenant_context(world_a.tenant):
        before = [
            list(model.objects.order_by("pk").values())
            for model in (Brand, Unit, VariantType, Product)
        ]
    response = client.generic(
        method,
        path.format(**refs),
        data='{"name": "hijacked"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(world_b.admin),
    )
    assert response.status_code == 404, response.content[:200]
    with tenant_context(world_a.tenant):
        after = [
            list(model.objects.order_by("pk").values())
            for model in (Brand, Unit, VariantType, Product)
        ]
    assert after == before


def test_status_view_list_query_count(api, world_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(world_a.admin)
    for index in range(4):
        client.post("/api/v1/products", {"name": f"D{index}", "sku": f"D-{index}"}, format="json")
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get("/api/v1/products/status/draft", {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/api/v1/products/status/draft", {"limit": 100}).json()["data"]) == 4
    assert len(large) == len(small)
