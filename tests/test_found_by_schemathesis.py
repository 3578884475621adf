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
