"""Generated from every operation of the OpenAPI document (tests/operations.py), for operator
access (`X-Act-As-Tenant`, apps/core/operator.py):

- a company role sending the header is refused on every operation (403 FORBIDDEN), before any
  view runs: nothing is written, not even an audit row;
- a SUPER_ADMIN sending it for company A gets, on every company operation, exactly what A's ADMIN
  gets (the same status as the generated permission suite expects of an ADMIN), and every such
  call leaves its two `operator.access` rows with that status."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.users.models import User
from tests.operations import all_cases, call, make_refs, rows_kept_for_the_module

CASES = [case for case in all_cases() if case.permission != "public"]
REASON = "Generated suite: operator parity"
# Everything under /api/v1 — the platform's own operations included, which answer an operator
# acting as the company's ADMIN with 403 as they answer that ADMIN. The caller's own account
# (/api/auth) refuses the header (400, apps/core/tests/test_operator_access.py).
COMPANY_CASES = [case for case in CASES if case.operation.path.startswith("/api/v1/")]


@pytest.fixture(scope="module")
def refs_a(worlds, django_db_blocker):
    """Tenant A's objects, built once for the module (each case's writes roll back)."""
    with rows_kept_for_the_module(django_db_blocker, lambda: make_refs(worlds["a"])) as refs:
        yield refs


# The refusal happens before any routing, whatever the path: each operation is tried as one of the
# three company roles in turn (every role still meets a third of the operations).
REFUSALS = [(case, ("ADMIN", "MANAGER", "CASHIER")[i % 3]) for i, case in enumerate(CASES)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "role"), REFUSALS, ids=[f"{role} {case.id}" for case, role in REFUSALS]
)
def test_company_roles_sending_the_header_are_refused(case, role, client, world_a, refs_a):
    client.credentials(HTTP_X_ACT_AS_TENANT=str(world_a.tenant.pk), HTTP_X_ACT_AS_REASON=REASON)
    audit_rows = AuditLog.objects.count()
    response = call(client, case, refs_a, User.objects.get(pk=world_a.user(role).pk))
    assert response.status_code == 403, response.content[:300]
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.django_db
@pytest.mark.parametrize("case", COMPANY_CASES, ids=[case.id for case in COMPANY_CASES])
def test_the_operator_gets_what_the_companys_admin_gets(case, client, world_a, refs_a, super_admin):
    client.credentials(HTTP_X_ACT_AS_TENANT=str(world_a.tenant.pk), HTTP_X_ACT_AS_REASON=REASON)
    response = call(client, case, refs_a, super_admin)
    body = response.content[:400]
    if not case.allowed("ADMIN"):
        assert response.status_code == 403, body
        assert response.json()["error"]["code"] == "FORBIDDEN"
    else:
        expected = case.sample.expected("ADMIN")
        assert response.status_code == expected.status, body
        if expected.code is not None:
            assert response.json()["error"]["code"] == expected.code
    rows = AuditLog.objects.filter(action="operator.access", actor=super_admin)
    trails = sorted((str(row.tenant_id), row.after["status"]) for row in rows)
    assert trails == sorted(
        [(str(world_a.tenant.pk), response.status_code), ("None", response.status_code)]
    )
