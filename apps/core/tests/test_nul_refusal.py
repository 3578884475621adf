"""A NUL character in a path or query parameter: 400 for every endpoint, before anything is
read or written (PostgreSQL text cannot hold one; it used to reach the database as a 500 on the
barcode lookup and the product lookup list)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.stores.models import Store

pytestmark = pytest.mark.django_db

PATH = [{"field": None, "message": "The path must not contain NUL characters."}]


def query(field: str) -> list[dict]:
    return [{"field": field, "message": "Must not contain NUL characters."}]


@pytest.mark.parametrize(
    "role, url, details",
    [
        ("cashier", "/api/v1/products/lookup/barcode/%00", PATH),
        ("cashier", "/api/v1/products/lookup/barcode/40063%0081333931", PATH),
        ("admin", "/api/v1/lookups/products?search=%00", query("search")),
        ("admin", "/api/v1/products?search=a%00b&limit=5", query("search")),
        ("admin", "/api/v1/audit?action=sale%00", query("action")),
        ("admin", "/api/v1/products?limit=5&x%00y=1", query("xy")),
    ],
)
def test_a_nul_character_is_a_400_with_its_field(api, world_a, role, url, details):
    response = api(getattr(world_a, role)).get(url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"] == details
    assert response["X-Request-ID"]


def test_a_write_with_a_nul_in_its_query_changes_nothing(api, world_a):
    with tenant_context(world_a.tenant):
        before = Store.objects.count()
    response = api(world_a.admin).post(
        "/api/v1/stores?note=%00",
        {"name": "Harbour", "code": "HB", "kind": "RETAIL"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == query("note")
    with tenant_context(world_a.tenant):
        assert Store.objects.count() == before


def test_an_encoded_percent_sign_is_not_a_nul(api, world_a):
    """`%2500` is the text "%00", which a search may hold."""
    response = api(world_a.admin).get("/api/v1/lookups/products?search=%2500")
    assert response.status_code == 200
    assert response.json()["data"] == []
