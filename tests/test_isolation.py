"""Generated over every operation of the OpenAPI document (tests/operations.py): tenant B's ADMIN
calls it with tenant A's ids in the path (and a valid body of B's own). An id of A is not found
(404 NOT_FOUND), an operation without ids answers for B only (no id of A in the response), a
platform operation is refused (403) — and in every case nothing of tenant A changed: every row of
A's schema and every public row of A (company, settings, domains, users, their refresh tokens,
audit trail, images) is the same before and after."""

from __future__ import annotations

import pytest

from tests.operations import PUBLIC_OBJECTS, all_cases, call, ids_in, make_refs, tenant_snapshot

CASES = all_cases()


def test_every_operation_has_an_isolation_case():
    from tests.operations import operations

    assert {case.operation for case in CASES} == set(operations())


def expected_for_tenant_b(case) -> tuple[int, str | None]:
    if not case.allowed("ADMIN"):
        return 403, "FORBIDDEN"
    if case.has_tenant_ids and case.operation.key not in PUBLIC_OBJECTS:
        return 404, "NOT_FOUND"
    expected = case.sample.expected("ADMIN")
    return expected.status, expected.code


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_tenant_b_cannot_reach_or_change_tenant_a(case, client, world_a, world_b):
    refs_a, refs_b = make_refs(world_a), make_refs(world_b)
    before = tenant_snapshot(world_a.tenant)
    response = call(client, case, refs_a, world_b.admin, body_refs=refs_b)
    status, code = expected_for_tenant_b(case)
    assert response.status_code == status, response.content[:300]
    if code is not None:
        assert response.json()["error"]["code"] == code
    if case.operation.key not in PUBLIC_OBJECTS:
        text = response.content.decode()
        leaked = sorted(value for value in ids_in(before) if value in text)
        assert leaked == []
    after = tenant_snapshot(world_a.tenant)
    assert after.keys() == before.keys()
    changed = [label for label in before if after[label] != before[label]]
    assert changed == []


def test_the_snapshot_sees_rows_and_audit_rows_of_the_tenant(api, world_a):
    """The isolation checks above are only as good as the snapshot: it must see a change."""
    client = api(world_a.admin)  # issues (and records) the admin's token first
    before = tenant_snapshot(world_a.tenant)
    assert {"audit.AuditLog", "users.User", "catalog.Product", "stores.Store"} <= before.keys()
    response = client.patch(
        f"/api/v1/products/{world_a.product.pk}", {"name": "Changed"}, format="json"
    )
    assert response.status_code == 200
    after = tenant_snapshot(world_a.tenant)
    changed = sorted(label for label in before if after[label] != before[label])
    assert changed == ["audit.AuditLog", "catalog.Product"]
