"""Product status views: the list costs the same number of queries whatever the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_status_view_list_query_count(api, world_a):
    client = api(world_a.admin)
    for index in range(4):
        client.post("/api/v1/products", {"name": f"D{index}", "sku": f"D-{index}"}, format="json")
    client.get("/api/auth/me")  # warm the authenticated-user cache
    with CaptureQueriesContext(connection) as small:
        assert len(client.get("/api/v1/products/status/draft", {"limit": 1}).json()["data"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/api/v1/products/status/draft", {"limit": 100}).json()["data"]) == 4
    assert len(large) == len(small)
