"""Issue 26, point 3: a JSON body nested deeper than MAX_JSON_DEPTH (32) is a 400 before any
recursive parsing (it used to be a RecursionError, a 500, on every JSON endpoint)."""

from __future__ import annotations

import io
import json

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.core.errors import ValidationFailed
from apps.core.parsers import MAX_JSON_DEPTH, CamelCaseJSONParser, json_depth_check
from apps.sales.models import Sale

TOO_DEEP = [{"field": None, "message": "The JSON body is nested more than 32 levels deep."}]


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def assert_too_deep(response) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == TOO_DEEP


def test_the_limit_is_32():
    assert MAX_JSON_DEPTH == 32


@pytest.mark.parametrize(
    "body",
    [arrays(32), objects(32), '{"x": "]]]]", "y": [1, {"z": []}]}'],
    ids=["arrays", "objects", "brackets-in-a-string"],
)
def test_32_levels_parse_as_json(body):
    parsed = CamelCaseJSONParser().parse(io.BytesIO(body.encode()), parser_context={})
    assert parsed == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        arrays(33),
        objects(33),
        '"\\"["' + "," + arrays(33),  # an escaped quote does not end the string
        arrays(100_000),
    ],
    ids=["arrays", "objects", "after-an-escaped-quote", "100000-arrays"],
)
def test_33_levels_are_refused(body):
    with pytest.raises(ValidationFailed) as caught:
        json_depth_check(body)
    assert caught.value.details == TOO_DEEP


def test_brackets_inside_strings_do_not_count():
    json_depth_check(json.dumps(["[" * 500, {"k": "{" * 500 + '\\"'}]))


@pytest.mark.django_db
@pytest.mark.parametrize("nested", [arrays(471), objects(471)], ids=["arrays", "objects"])
def test_login_with_471_levels_is_a_400(client, world_a, nested):
    body = '{"email": "' + world_a.admin.email + '", "password": ' + nested + "}"
    response = client.post("/api/auth/login", body, content_type="application/json")
    assert_too_deep(response)


@pytest.mark.django_db
def test_a_login_body_32_levels_deep_passes_the_parser(client, world_a):
    """The object and 31 arrays: reaches the serializer, which refuses a list as the password."""
    body = '{"email": "' + world_a.admin.email + '", "password": ' + arrays(31) + "}"
    response = client.post("/api/auth/login", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"] != TOO_DEEP


@pytest.mark.django_db
def test_a_checkout_with_100_levels_is_a_400_and_writes_nothing(api, world_a):
    with tenant_context(world_a.tenant):
        before = Sale.objects.count()
    body = f'{{"storeId": "{world_a.store.pk}", "lines": {arrays(100)}, "payments": []}}'
    response = api(world_a.cashier).post(
        "/api/v1/sales/checkout", body, content_type="application/json"
    )
    assert_too_deep(response)
    with tenant_context(world_a.tenant):
        assert Sale.objects.count() == before


@pytest.mark.django_db
def test_the_bulk_import_refuses_5000_levels_and_writes_nothing(api, world_a):
    """The import keeps keys as sent (plain JSON parser): limited the same way."""
    with tenant_context(world_a.tenant):
        before = Product.objects.count()
    body = '[{"sku": "DEEP-1", "name": ' + arrays(5000) + "}]"
    response = api(world_a.manager).post(
        "/api/v1/products/bulk-import", body, content_type="application/json"
    )
    assert_too_deep(response)
    with tenant_context(world_a.tenant):
        assert Product.objects.count() == before
