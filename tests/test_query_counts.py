"""Generated over every paginated list of the OpenAPI document (tests/operations.py): as the ADMIN
of tenant A (or the super admin for platform lists), a page of one row and a page of every row
cost the same number of queries — no query per row. A list whose full page holds fewer than two
rows fails: the check would prove nothing, so `make_refs` must give it data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import bearer
from tests.operations import cases_of, make_refs, operations, schema


def paginated(operation) -> bool:
    responses = schema()["paths"][operation.path]["get"].get("responses", {})
    ref = (
        responses.get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("$ref", "")
    )
    component = schema()["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return "meta" in component.get("properties", {})


LISTS = [op for op in operations() if op.method == "GET" and not op.parameters and paginated(op)]


def test_the_lists_are_found():
    paths = {op.path for op in LISTS}
    assert {"/api/v1/products", "/api/v1/inventory/movements", "/api/v1/inventory/stock"} <= paths


@pytest.mark.django_db
@pytest.mark.parametrize("operation", LISTS, ids=[op.path for op in LISTS])
def test_query_count_does_not_grow_with_the_page(operation, client, world_a, super_admin):
    make_refs(world_a)
    platform = cases_of(operation)[0].permission == "SUPER_ADMIN"
    if operation.path == "/api/v1/super-admin/admins":  # a second operator to list
        from apps.users.services import super_admin_ensure

        super_admin_ensure(email="second.root@platform.test", password="Second-root-2026")
    if operation.path == "/api/v1/super-admin/logs":  # stored log lines to list
        from apps.devtools.services import log_entries_write

        log_entries_write(
            entries=[{"level": "ERROR", "level_no": 40, "logger": "t", "message": "x"}] * 2
        )
    caller = super_admin if platform else world_a.admin
    headers = {"HTTP_AUTHORIZATION": bearer(caller)}
    client.get(operation.path, {"limit": 1}, **headers)  # warm whatever is cached per process
    with CaptureQueriesContext(connection) as one:
        small = client.get(operation.path, {"limit": 1}, **headers)
    with CaptureQueriesContext(connection) as many:
        large = client.get(operation.path, {"limit": 100}, **headers)
    assert (small.status_code, large.status_code) == (200, 200), large.content[:300]
    rows = len(large.json()["data"])
    assert rows >= 2, f"{operation.path}: give it at least two rows in make_refs"
    assert len(many) == len(one), [q["sql"][:120] for q in many.captured_queries]
