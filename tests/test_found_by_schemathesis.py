"""Defects schemathesis found once it ran as every role with real ids, each pinned by a test."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Category

pytestmark = pytest.mark.django_db


def test_a_json_non_string_is_not_a_uuid(api, super_admin, world_a):
    """DRF's UUIDField turned `false` into 00000000-0000-0000-0000-000000000000."""
    response = api(super_admin).post(
        "/api/v1/super-admin/users/bulk",
        {"action": "deactivate", "userIds": [False]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_an_empty_reassign_target_is_refused_not_ignored(api, world_a):
    with tenant_context(world_a.tenant):
        category = Category.objects.create(name="Unused")
    response = api(world_a.admin).delete(f"/api/v1/products/categories/{category.pk}?reassignTo=")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "reassignTo"
    with tenant_context(world_a.tenant):
        assert Category.objects.alive().filter(pk=category.pk).exists()


@pytest.mark.parametrize(
    "attributes",
    [
        '{"a": "\\u0000"}',  # jsonb: \u0000 cannot be converted to text
        '{"\\u0000": 1}',
        '{"a": "\\udad5"}',  # a lone surrogate
        '{"\\udad5": 1}',
        '{"a": [1e400]}',  # parsed as infinity
        '{"a": {"b": NaN}}',
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_free_form_json_that_jsonb_refuses_is_a_400_not_a_500(api, world_a, method, attributes):
    path = "/api/v1/products" + (f"/{world_a.product.pk}" if method == "PATCH" else "")
    body = '{"name": "Odd", "sku": "ODD-1", "attributes": ' + attributes + "}"
    response = api(world_a.admin).generic(method, path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["details"][0]["field"] == "attributes"


def test_ordinary_free_form_json_is_still_accepted(api, world_a):
    attributes = {"origin": "PT", "tags": ["fizzy", 1, 2.5, None, True], "nested": {"x": "é"}}
    response = api(world_a.admin).patch(
        f"/api/v1/products/{world_a.product.pk}", {"attributes": attributes}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"]["attributes"] == attributes


@pytest.mark.parametrize(
    "path", ["/api/v1/customers/%2C%0Ag", "/api/v1/products/a%0Ab", "/api/%0A"]
)
def test_an_api_path_holding_a_newline_is_a_json_404(api, world_a, path):
    """The catch-all `^api(?:/.*)?$` did not match across an encoded newline: Django's HTML 404."""
    response = api(world_a.admin).patch(path, {"notes": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_category_tree_refuses_a_malformed_page(api, world_a):
    """The tree view is not paginated, but `page` and `limit` are documented for it too."""
    client = api(world_a.admin)
    for query in ("page=", "page=x", "limit=0"):
        response = client.get(f"/api/v1/products/categories?view=tree&{query}")
        assert response.status_code == 400, query
    assert client.get("/api/v1/products/categories?view=tree&page=1").status_code == 200


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/api/v1/users/me", "patch", '{"email": "new@acme.test", "currentPassword": "\\ud800"}'),
        (
            "/api/auth/change-password",
            "patch",
            '{"currentPassword": "\\ud800x", "newPassword": "A"}',
        ),
        ("/api/v1/products", "post", '{"name": "Caf\\udce9", "sku": "SUR-1"}'),
    ],
)
def test_a_lone_surrogate_in_text_is_a_400_not_a_500(api, world_a, path, method, body):
    """A lone surrogate is valid JSON but no UTF-8 text: the password hasher (and PostgreSQL)
    raised UnicodeEncodeError on it."""
    from apps.users.models import User

    before = User.objects.filter(pk=world_a.admin.pk).values("email", "password").get()
    response = getattr(api(world_a.admin), method)(path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["message"] == "Surrogate characters are not allowed."
    assert User.objects.filter(pk=world_a.admin.pk).values("email", "password").get() == before
