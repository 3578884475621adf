from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.catalog.models import Category, Product, VariantType

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/products/categories"


def soft_drinks(world) -> Category:
    with tenant_context(world.tenant):
        return Category.objects.get(name="Soft drinks")


def test_tree_and_flat_views(api, world_a):
    client = api(world_a.cashier)  # category:read
    flat = client.get(CATEGORIES).json()
    assert sorted(c["name"] for c in flat["data"]) == ["Drinks", "Soft drinks"]
    tree = client.get(CATEGORIES, {"view": "tree"}).json()
    assert [(c["name"], [k["name"] for k in c["children"]]) for c in tree["data"]] == [
        ("Drinks", ["Soft drinks"])
    ]
    assert client.get(CATEGORIES, {"view": "graph"}).status_code == 400


def test_sibling_names_are_unique_case_insensitively(api, world_a):
    client = api(world_a.admin)
    assert client.post(CATEGORIES, {"name": "DRINKS"}, format="json").status_code == 409
    child = {"name": "soft DRINKS", "parentId": str(world_a.category.pk)}
    assert client.post(CATEGORIES, child, format="json").status_code == 409
    # the same name under another parent is fine
    assert client.post(CATEGORIES, {"name": "Soft drinks"}, format="json").status_code == 201


def test_moving_a_category_under_its_descendant_is_422(api, world_a):
    client = api(world_a.admin)
    url = f"{CATEGORIES}/{world_a.category.pk}"
    for parent in (soft_drinks(world_a).pk, world_a.category.pk):
        response = client.patch(url, {"parentId": str(parent)}, format="json")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "CATEGORY_CYCLE"
    with tenant_context(world_a.tenant):
        assert Category.objects.get(pk=world_a.category.pk).parent_id is None


def test_delete_refused_while_in_use_unless_reassigned(api, world_a):
    client = api(world_a.admin)
    url = f"{CATEGORIES}/{world_a.category.pk}"
    refused = client.delete(url)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "IN_USE"
    target = client.post(CATEGORIES, {"name": "Beverages"}, format="json").json()["data"]["id"]
    under_itself = client.delete(url, QUERY_STRING=f"reassignTo={soft_drinks(world_a).pk}")
    assert under_itself.status_code == 422
    assert client.delete(url, QUERY_STRING=f"reassignTo={target}").status_code == 200
    with tenant_context(world_a.tenant):
        assert str(Product.objects.get(pk=world_a.product.pk).category_id) == target
        assert str(Category.objects.get(name="Soft drinks").parent_id) == target
    assert client.get(url).status_code == 404


def test_category_list_query_count(api, world_a):
    client = api(world_a.admin)
    for index in range(4):
        client.post(
            CATEGORIES, {"name": f"C{index}", "parentId": str(world_a.category.pk)}, format="json"
        )
    for view in ("flat", "tree"):
        client.get("/api/auth/me")  # warm the authenticated-user cache
        with CaptureQueriesContext(connection) as small:
            client.get(CATEGORIES, {"limit": 1, "view": view})
        with CaptureQueriesContext(connection) as large:
            client.get(CATEGORIES, {"limit": 100, "view": view})
        assert len(large) == len(small)


@pytest.mark.parametrize(
    "path, body, rename",
    [
        ("/api/v1/products/brands", {"name": "Globex"}, {"name": "Globex Corp"}),
        (
            "/api/v1/products/units",
            {"name": "Kilogram", "abbreviation": "kg", "allowsFraction": True},
            {"abbreviation": "KG"},
        ),
        (
            "/api/v1/products/variant-types",
            {"name": "Color", "values": ["Red", "Blue"]},
            {"name": "Colour"},
        ),
    ],
)
def test_reference_data_crud_and_duplicates(api, world_a, path, body, rename):
    client = api(world_a.manager)
    created = client.post(path, body, format="json")
    assert created.status_code == 201, created.json()
    url = f"{path}/{created.json()['data']['id']}"
    assert (
        client.post(path, {**body, "name": body["name"].upper()}, format="json").status_code == 409
    )
    updated = client.patch(url, rename, format="json")
    assert updated.status_code == 200
    assert all(updated.json()["data"][key] == value for key, value in rename.items())
    assert client.get(path, {"search": body["name"][:3]}).json()["meta"]["total"] >= 0
    assert client.delete(url).status_code == 200
    assert client.get(url).status_code == 404
    assert api(world_a.cashier).post(path, body, format="json").status_code == 403


def test_brand_and_unit_in_use_cannot_be_deleted(api, world_a):
    client = api(world_a.admin)
    brand = client.post("/api/v1/products/brands", {"name": "Initech"}, format="json").json()[
        "data"
    ]
    unit = client.post(
        "/api/v1/products/units", {"name": "Litre", "abbreviation": "l"}, format="json"
    ).json()["data"]
    client.patch(
        f"/api/v1/products/{world_a.product.pk}",
        {"brandId": brand["id"], "unitId": unit["id"]},
        format="json",
    )
    for url in (f"/api/v1/products/brands/{brand['id']}", f"/api/v1/products/units/{unit['id']}"):
        response = client.delete(url)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "IN_USE"


def test_variant_type_values_in_use_cannot_be_removed(api, world_a):
    client = api(world_a.admin)
    types = client.get("/api/v1/products/variant-types").json()["data"]
    size = next(t for t in types if t["name"] == "Size")
    url = f"/api/v1/products/variant-types/{size['id']}"
    assert client.patch(url, {"values": ["S", "L"]}, format="json").status_code == 422  # M is used
    assert client.delete(url).status_code == 422
    kept = client.patch(url, {"values": ["XS", "S", "M", "L"]}, format="json").json()["data"]
    assert [v["value"] for v in kept["values"]] == ["XS", "S", "M", "L"]


def test_reference_lists_query_count(api, world_a):
    client = api(world_a.admin)
    for index in range(3):
        client.post(
            "/api/v1/products/variant-types",
            {"name": f"T{index}", "values": ["a", "b"]},
            format="json",
        )
        client.post("/api/v1/products/brands", {"name": f"B{index}"}, format="json")
        client.post(
            "/api/v1/products/units",
            {"name": f"U{index}", "abbreviation": f"u{index}"},
            format="json",
        )
    for path in (
        "/api/v1/products/variant-types",
        "/api/v1/products/brands",
        "/api/v1/products/units",
    ):
        client.get("/api/auth/me")  # warm the authenticated-user cache
        with CaptureQueriesContext(connection) as small:
            client.get(path, {"limit": 1})
        with CaptureQueriesContext(connection) as large:
            assert len(client.get(path, {"limit": 100}).json()["data"]) >= 3
        assert len(large) == len(small), path


def test_variant_type_rename_and_new_values_is_one_audit_row(api, world_a):
    from apps.audit.models import AuditLog

    with tenant_context(world_a.tenant):
        size = VariantType.objects.get(name="Size")
    response = api(world_a.admin).patch(
        f"/api/v1/products/variant-types/{size.pk}",
        {"name": "Sizes", "values": ["S", "M", "L", "XL"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    rows = list(
        AuditLog.objects.filter(entity_type="variant_type", entity_id=str(size.pk)).exclude(
            action="variant_type.create"
        )
    )
    assert [(row.action, row.before, row.after) for row in rows] == [
        (
            "variant_type.update",
            {"name": "Size", "values": ["S", "M", "L"]},
            {"name": "Sizes", "values": ["S", "M", "L", "XL"]},
        )
    ]
