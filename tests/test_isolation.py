"""Generated over every id-bearing tenant endpoint built so far: tenant B's ADMIN gets 404 for
tenant A's ids, and nothing in A changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.catalog.models import Category, Product, ProductVariant, VariantType
from apps.stores.models import Store, StoreAssignment
from apps.tenants.models import TenantSettings
from apps.users.models import User
from conftest import bearer
from tests.endpoints import BUILT, has_ids, path_for, row_id

TENANT_ROWS = [row for row in BUILT if has_ids(row) and row["module"] != "super-admin"]


def snapshot(world) -> dict:
    """Everything of tenant A an endpoint here could touch."""
    connection.set_schema_to_public()
    users = list(
        User.objects.filter(tenant=world.tenant)
        .order_by("pk")
        .values(
            "pk",
            "email",
            "name",
            "phone",
            "role",
            "is_active",
            "deleted_at",
            "token_version",
            "password",
            "avatar_url",
        )
    )
    with tenant_context(world.tenant):
        stores = list(Store.objects.order_by("pk").values())
        assignments = list(StoreAssignment.objects.order_by("pk").values())
        catalogue = [
            list(model.objects.order_by("pk").values())
            for model in (Category, Product, ProductVariant, VariantType)
        ]
    return {
        "users": users,
        "stores": stores,
        "assignments": assignments,
        "catalogue": catalogue,
        "settings": list(TenantSettings.objects.filter(tenant=world.tenant).values()),
        "audit": AuditLog.objects.filter(tenant=world.tenant).count(),
    }


def test_there_are_id_endpoints_to_check():
    assert len(TENANT_ROWS) >= 18  # users 5, stores 4, products 6, categories 3


@pytest.mark.django_db
@pytest.mark.parametrize("row", TENANT_ROWS, ids=row_id)
def test_other_tenants_ids_are_404_and_change_nothing(row, client, world_a, world_b):
    before = snapshot(world_a)
    response = client.generic(
        row["method"],
        path_for(row, world_a),
        data='{"name": "hijacked", "newPassword": "Hijacked-pass-2026", "role": "CASHIER"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(world_b.admin),
    )
    assert response.status_code == 404, response.content[:300]
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert snapshot(world_a) == before
