"""The OpenAPI document served at /api/schema declares every variable of every path template as a
required path parameter of each operation on that path (a client generated from the document, or
schemathesis run from outside, must be able to fill it), and ids are typed as UUIDs."""

from __future__ import annotations

import re

import pytest

TEMPLATE_VARIABLE = re.compile(r"\{(\w+)\}")
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def served_schema(django_db_setup, django_db_blocker) -> dict:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for template, path_item in schema["paths"].items():
        shared = [p for p in path_item.get("parameters", []) if p.get("in") == "path"]
        for method, operation in path_item.items():
            if method in METHODS:
                own = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
                yield template, method.upper(), {p["name"]: p for p in shared + own}


def test_every_template_variable_is_a_declared_required_path_parameter(served_schema):
    undeclared = [
        f"{method} {template}: {{{name}}}"
        for template, method, declared in operations(served_schema)
        for name in TEMPLATE_VARIABLE.findall(template)
        if name not in declared or declared[name].get("required") is not True
    ]
    assert undeclared == []


def test_no_path_parameter_is_declared_that_the_template_lacks(served_schema):
    extra = [
        f"{method} {template}: {name}"
        for template, method, declared in operations(served_schema)
        for name in declared
        if name not in TEMPLATE_VARIABLE.findall(template)
    ]
    assert extra == []


def test_id_path_parameters_are_uuids(served_schema):
    """Ids are UUIDs: `{id}` and every `{…Id}` (URL converter `uuid` or a router's UUID pattern)."""
    ids = {
        (method, template, name): declared[name]["schema"]
        for template, method, declared in operations(served_schema)
        for name in declared
        if name == "id" or name.endswith("Id")
    }
    assert len(ids) >= 40
    uuid = {"type": "string", "format": "uuid"}
    not_uuid = [key for key, schema in ids.items() if schema != uuid]
    assert not_uuid == []


def test_variant_and_status_routes_are_documented_with_their_parameters(served_schema):
    paths = served_schema["paths"]
    variant = paths["/api/v1/products/{productId}/variants/{variantId}"]
    assert sorted(variant) == ["delete", "patch"]
    status = paths["/api/v1/products/status/{statusSlug}"]["get"]
    (slug,) = [p for p in status["parameters"] if p["in"] == "path"]
    # a choice of words in the URL regex is an enum (drf-spectacular gave `^draft|…|coming-soon$`,
    # which anchors only the first and last alternatives)
    assert slug["schema"] == {
        "type": "string",
        "enum": ["draft", "archived", "discontinued", "coming-soon"],
    }
