"""The API conventions every module inherits: envelopes, error format, pagination limits,
camelCase, optional trailing slash, JSON 404/405/500 without internals."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/super-admin/tenants"


def test_success_envelope_and_camel_case(api, world_a):
    response = api(world_a.admin).get("/api/auth/me")
    body = response.json()
    assert body["success"] is True
    assert "isActive" in body["data"] and "is_active" not in body["data"]
    assert response["X-Request-ID"]


def test_request_id_is_echoed_when_sane(api, world_a):
    client = api(world_a.admin)
    assert client.get("/api/auth/me", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert client.get("/api/auth/me", HTTP_X_REQUEST_ID="bad id;")["X-Request-ID"] != "bad id;"


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/auth/me/"])
def test_trailing_slash_is_optional(api, world_a, path):
    assert api(world_a.admin).get(path).status_code == 200


def test_malformed_json_is_400_with_details(client, worlds):
    response = client.post("/api/auth/login", data="{bad json", content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] and "JSON parse error" in error["details"][0]["message"]


def test_wrong_types_and_missing_fields_are_400_per_field(client, worlds):
    response = client.post(
        "/api/auth/login", data=json.dumps({"email": 42}), content_type="application/json"
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert {d["field"] for d in details} == {"email", "password"}


def test_a_json_array_body_is_400_not_500(client, worlds):
    response = client.post("/api/auth/login", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"limit": 101}, "Must be at most 100."),
        ({"limit": 0}, "Must be at least 1."),
        ({"page": "two"}, "Must be a whole number."),
        ({"page": -1}, "Must be at least 1."),
    ],
)
def test_bad_pagination_is_400_with_details(api, super_admin, params, message):
    response = api(super_admin).get(TENANTS, params)
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details == [{"field": next(iter(params)), "message": message}]


def test_page_past_the_end_is_an_empty_list(api, super_admin, world_a):
    body = api(super_admin).get(TENANTS, {"page": 50}).json()
    assert body["data"] == []
    assert body["meta"]["page"] == 50


def test_unknown_route_under_api_is_json_404(api, world_a):
    response = api(world_a.admin).get("/api/v1/no-such-thing/123")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_wrong_method_is_json_405(client, worlds):
    response = client.get("/api/auth/login")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.urls("apps.core.tests.urls")
def test_unexpected_error_is_500_without_internals(api, world_a):
    response = api(world_a.admin).get("/api/v1/_test/explode")
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "success": False,
        "error": {
            "code": "INTERNAL_ERROR",
            "message": "An unexpected error occurred.",
            "details": [],
        },
    }
    assert "hunter2" not in response.content.decode()


def test_openapi_schema_and_docs_are_served_offline(client, worlds):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    for page in ("/api/docs", "/api/redoc"):
        html = client.get(page).content.decode()
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
        assert "/static/drf_spectacular_sidecar/" in html
