"""Generated from the contract: for every built endpoint and every role, the call is allowed or
refused with 403 exactly as the role → permission table (apps.core.roles) says."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.roles import PUBLIC, role_has_permission
from apps.users.models import User
from conftest import bearer
from tests.endpoints import BUILT, ROLES, path_for, row_id

CASES = [(row, role) for row in BUILT for role in ROLES]


def caller(role: str, worlds) -> User:
    if role == "SUPER_ADMIN":
        return User.objects.get(email="root@platform.test")
    return User.objects.get(pk=worlds["a"].user(role).pk)


@pytest.mark.django_db
@pytest.mark.parametrize("row, role", CASES, ids=[f"{role} {row_id(row)}" for row, role in CASES])
def test_role_is_allowed_or_refused_as_the_table_says(row, role, client, worlds):
    user = caller(role, worlds)
    response = client.generic(
        row["method"],
        path_for(row, worlds["a"]),
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(user),
    )
    connection.set_schema_to_public()
    allowed = row["permission"] == PUBLIC or role_has_permission(role, row["permission"])
    if allowed:
        assert response.status_code not in (401, 403, 404, 405), response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]
        assert response.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.django_db
@pytest.mark.parametrize("row", [r for r in BUILT if r["permission"] != PUBLIC], ids=row_id)
def test_anonymous_callers_get_401(row, client, worlds):
    response = client.generic(
        row["method"], path_for(row, worlds["a"]), data="{}", content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
