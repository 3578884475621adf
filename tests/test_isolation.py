"""Generated over every operation of the OpenAPI document (tests/operations.py): tenant B's ADMIN
calls it with tenant A's ids in the path (and a valid body of B's own). An id of A is not found
(404 NOT_FOUND), an operation without ids answers for B only (no id of A in the response), a
platform operation is refused (403) — and in every case nothing of tenant A changed: every row of
A's schema and every public row of A (company, settings, domains, users, their refresh tokens,
audit trail, images) is the same before and after."""

from __future__ import annotations

import pytest

from tests.operations import (
    PUBLIC_OBJECTS,
    all_cases,
    call,
    ids_in,
    make_refs,
    rows_kept_for_the_module,
    tenant_fingerprint,
    tenant_snapshot,
)

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


@pytest.fixture(scope="module")
def kept(worlds, django_db_blocker):
    """Both tenants' objects and tenant A's snapshot, built once for the module: every case's
    writes roll back, so each case starts from these very rows."""

    def build():
        refs_a, refs_b = make_refs(worlds["a"]), make_refs(worlds["b"])
        tenant = worlds["a"].tenant
        return refs_a, refs_b, tenant_fingerprint(tenant), ids_in(tenant_snapshot(tenant))

    with rows_kept_for_the_module(django_db_blocker, build) as built:
        yield built


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_tenant_b_cannot_reach_or_change_tenant_a(case, client, world_a, world_b, kept):
    refs_a, refs_b, before, ids_of_a = kept
    assert tenant_fingerprint(world_a.tenant) == before  # the case starts from the kept rows
    response = call(client, case, refs_a, world_b.admin, body_refs=refs_b)
    status, code = expected_for_tenant_b(case)
    assert response.status_code == status, response.content[:300]
    if code is not None:
        assert response.json()["error"]["code"] == code
    if case.operation.key not in PUBLIC_OBJECTS:
        text = response.content.decode()
        leaked = sorted(value for value in ids_of_a if value in text)
        assert leaked == []
    after = tenant_fingerprint(world_a.tenant)
    assert after.keys() == before.keys()
    changed = [label for label in before if after[label] != before[label]]
    assert changed == []


def test_the_fingerprint_sees_what_the_snapshot_sees(api, world_a):
    """The per-case check compares fingerprints (one digest per row set): a change the snapshot
    shows must change the same row sets' digests, and nothing else."""
    client = api(world_a.admin)
    before, rows_before = tenant_fingerprint(world_a.tenant), tenant_snapshot(world_a.tenant)
    assert before.keys() == rows_before.keys()
    response = client.patch(
        f"/api/v1/products/{world_a.product.pk}", {"name": "Changed"}, format="json"
    )
    assert response.status_code == 200
    after, rows_after = tenant_fingerprint(world_a.tenant), tenant_snapshot(world_a.tenant)
    changed = sorted(label for label in before if after[label] != before[label])
    seen = sorted(label for label in rows_before if rows_after[label] != rows_before[label])
    assert changed == seen
    assert changed == ["audit.AuditLog", "catalog.Product"]


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
