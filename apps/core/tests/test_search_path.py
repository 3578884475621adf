"""`SET search_path` once per schema switch (TENANT_LIMIT_SET_CALLS), never trusted after a
rollback, and skipped only for `qualified_cursor` statements that name their schema."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.db import qualified_table
from apps.core.prepared import qualified_cursor

pytestmark = pytest.mark.django_db


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def _sets(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SET search_path")]


def test_one_set_per_schema_switch(world_a):
    connection.set_tenant(world_a.tenant)
    with CaptureQueriesContext(connection) as queries:
        assert _search_path() == f"{world_a.tenant.schema_name}, public"
        assert _search_path() == f"{world_a.tenant.schema_name}, public"
    assert _sets(queries) == [f'SET search_path = "{world_a.tenant.schema_name}","public"']


def test_a_set_undone_by_a_rollback_is_issued_again(world_a, world_b):
    connection.set_tenant(world_a.tenant)
    assert _search_path() == f"{world_a.tenant.schema_name}, public"
    with pytest.raises(RuntimeError), transaction.atomic():
        connection.set_tenant(world_b.tenant)
        assert _search_path() == f"{world_b.tenant.schema_name}, public"
        raise RuntimeError("roll back the SET")
    # PostgreSQL reverted the session to A's path while Django still has B selected: the path
    # is issued again (django-tenants forgets it on rollback), never trusted
    assert connection.schema_name == world_b.tenant.schema_name
    assert _search_path() == f"{world_b.tenant.schema_name}, public"


def test_a_qualified_cursor_skips_the_set_and_leaves_the_next_cursor_to_issue_it(world_a):
    connection.set_schema_to_public()
    assert _search_path() == "public"
    connection.set_tenant(world_a.tenant)
    table = qualified_table("catalog_product")
    with CaptureQueriesContext(connection) as queries:
        with qualified_cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE sku = %s", ["P-100"])
            assert cursor.fetchone()[0] == 1
        assert _sets(queries) == []
        # the session is still on the public path: the next ordinary cursor sets A's
        assert _search_path() == f"{world_a.tenant.schema_name}, public"
    assert len(_sets(queries)) == 1
    assert table == f'"{world_a.tenant.schema_name}"."catalog_product"'


def test_the_barcode_scan_reads_only_its_own_tenant(api, world_a, world_b):
    """The hot path names its schema in the SQL: tenant B's barcode is not found through A."""
    client = api(world_a.cashier)
    own = client.get("/api/v1/products/lookup/barcode/4006381333931")
    other = client.get("/api/v1/products/lookup/barcode/5901234123457")  # B's product
    assert (own.status_code, other.status_code) == (200, 404)
    assert own.json()["data"]["productId"] == str(world_a.product.pk)
