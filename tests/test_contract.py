"""The contract: every row of `docs/spec/endpoints.csv` (a copy of `shared/spec/endpoints.csv`)
is routed with its method and documented in the OpenAPI schema — except the rows of modules not
built yet, listed in PENDING. Each issue that builds a module removes its rows from PENDING."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from apps.core.views import api_not_found
from apps.users.models import User
from conftest import bearer
from tests.endpoints import BUILT, PARAM, PENDING, SPEC, path_for, row_id

SHARED_SPEC = Path(settings.BASE_DIR).parent / "shared" / "spec" / "endpoints.csv"
ANY_PARAM = re.compile(r":(\w+)|\{(\w+)\}")


def normalized(path: str) -> str:
    return ANY_PARAM.sub("{}", path.rstrip("/"))


def test_the_copied_spec_matches_the_shared_one():
    if not SHARED_SPEC.exists():
        pytest.skip("shared/spec is not next to this checkout")
    assert SPEC.read_text() == SHARED_SPEC.read_text()


def test_pending_rows_are_really_not_built_yet():
    """Shrink PENDING as modules land: a routed row must leave it."""
    routed = [
        f"{method} {path}"
        for method, path in sorted(PENDING)
        if resolve(PARAM.sub("00000000-0000-0000-0000-000000000000", path)).func
        is not api_not_found
    ]
    assert routed == []


def caller_for(permission: str, worlds, super_admin) -> User | None:
    if permission == "public":
        return None
    if permission == "SUPER_ADMIN":
        return super_admin
    return User.objects.get(pk=worlds["a"].admin.pk)  # ADMIN holds every tenant permission


@pytest.mark.django_db
@pytest.mark.parametrize("row", BUILT, ids=row_id)
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_built_row_is_routed_with_its_method(row, slash, client, worlds, super_admin):
    user = caller_for(row["permission"], worlds, super_admin)
    headers = {"HTTP_AUTHORIZATION": bearer(user)} if user else {}
    path = path_for(row, worlds["a"]) + slash
    response = client.generic(
        row["method"], path, data="{}", content_type="application/json", **headers
    )
    assert response.status_code not in (404, 405), (row_id(row), response.content[:300])


def test_built_rows_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (method.upper(), normalized(path))
        for path, item in schema["paths"].items()
        for method in item
    }
    missing = [
        row_id(row) for row in BUILT if (row["method"], normalized(row["path"])) not in documented
    ]
    assert missing == []
