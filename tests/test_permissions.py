"""Generated from every operation of the OpenAPI document (tests/operations.py): for every case and
every role, a refused role gets 403 FORBIDDEN exactly as the role → permission table
(apps.core.roles) says, and an allowed role gets exactly the status its sample input deserves (a
2xx, or the documented 4xx written out per operation) — so a 500 fails. Anonymous callers get 401.
The first tests fail when an operation of the document has no permission, sample or ids."""

from __future__ import annotations

import pytest

from apps.users.models import User
from tests.operations import (
    ADDITIONS,
    CONTRACT,
    NOT_TENANT_OBJECTS,
    RESOURCES,
    ROLES,
    SAMPLES,
    TEMPLATE_VARIABLE,
    all_cases,
    call,
    cases_of,
    make_refs,
    normalized,
    operations,
    rows_kept_for_the_module,
)

CASES = all_cases()


# --- every operation is covered ----------------------------------------------------------------
def test_every_operation_has_a_permission():
    uncovered = []
    for operation in operations():
        try:
            cases_of(operation)
        except KeyError:
            uncovered.append(f"{operation.method} {operation.path}")
    assert uncovered == [], "add them to the contract or to ADDITIONS in tests/operations.py"


def test_no_stale_entries():
    documented = {op.key for op in operations()}
    assert sorted(set(ADDITIONS) - documented) == []
    assert sorted(set(SAMPLES) - documented) == []
    contract = {(op.method, normalized(op.path)) for op in operations()}
    assert sorted(key for key in ADDITIONS if (key[0], normalized(key[1])) in CONTRACT) == []
    assert len(contract) == len(operations())


def test_every_write_has_a_sample_input():
    missing = [
        f"{op.method} {op.path}"
        for op in operations()
        if op.method not in ("GET", "DELETE") and op.key not in SAMPLES
    ]
    assert missing == []


def test_every_path_parameter_has_a_real_object():
    missing = []
    for operation in operations():
        for match in TEMPLATE_VARIABLE.finditer(operation.path):
            enum = dict(operation.parameters).get(match.group(1))
            if not enum and operation.path[: match.end()] not in RESOURCES:
                missing.append(operation.path[: match.end()])
    assert missing == []
    assert {name for op in operations() for name, enum in op.parameters if enum} == (
        NOT_TENANT_OBJECTS
    )


def test_the_suite_is_not_empty():
    assert len(operations()) >= 79
    assert len(PUBLIC_CASES) == 5  # login, refresh, forgot and reset password, public images
    assert len(CASES) >= len(operations()) + 6 + 3 * 3  # lookup entities, status slugs


# --- every role and every case -------------------------------------------------------------------
@pytest.fixture(scope="module")
def refs_a(worlds, django_db_blocker):
    """Tenant A's objects, built once for the module (each case's writes roll back)."""
    with rows_kept_for_the_module(django_db_blocker, lambda: make_refs(worlds["a"])) as refs:
        yield refs


def caller(role: str, world) -> User:
    if role == "SUPER_ADMIN":
        return User.objects.get(email="root@platform.test")
    return User.objects.get(pk=world.user(role).pk)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_role_gets_exactly_what_the_table_and_sample_say(case, role, client, world_a, refs_a):
    response = call(client, case, refs_a, caller(role, world_a))
    body = response.content[:400]
    if not case.allowed(role):
        assert response.status_code == 403, body
        assert response.json()["error"]["code"] == "FORBIDDEN"
        return
    expected = case.sample.expected(role)
    assert response.status_code == expected.status, body
    if expected.code is not None:
        assert response.json()["error"]["code"] == expected.code
    elif response["Content-Type"] == "application/json":
        assert response.json()["success"] is True


ANONYMOUS = [case for case in CASES if case.permission != "public"]


@pytest.mark.django_db
@pytest.mark.parametrize("case", ANONYMOUS, ids=[case.id for case in ANONYMOUS])
def test_anonymous_callers_get_401(case, client, world_a, refs_a):
    response = call(client, case, refs_a)
    assert response.status_code == 401, response.content[:300]
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


PUBLIC_CASES = [case for case in CASES if case.permission == "public"]


@pytest.mark.django_db
@pytest.mark.parametrize("case", PUBLIC_CASES, ids=[case.id for case in PUBLIC_CASES])
def test_public_operations_need_no_token(case, client, world_a, refs_a):
    response = call(client, case, refs_a)
    assert response.status_code == case.sample.expected("ANONYMOUS").status, response.content[:300]
