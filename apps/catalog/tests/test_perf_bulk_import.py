"""The bulk import stays linear in rows: a file twice as long costs twice the work, not four
times (the per-row rebuild of the file's SKU set made 50,000 variant rows take minutes), and the
number of queries does not depend on the number of rows. A rejected file is turned away before
the catalogue lock is taken."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.catalog import imports
from apps.catalog.services import catalogue_lock

pytestmark = pytest.mark.django_db


class CountingDict(dict):
    lookups = 0

    def __getitem__(self, key):
        CountingDict.lookups += 1
        return super().__getitem__(key)


def variant_rows(count: int) -> list[dict]:
    return [
        {"sku": f"LIN-{i}", "name": f"Linear {i}", "variantSku": f"LIN-{i}-M",
         "variantAttributes": "Size=M", "barcode": None}
        for i in range(count)
    ]  # fmt: skip


def _row_lookups(world, count: int, monkeypatch) -> int:
    parse = imports._parse_row

    def counted(row_no, row, errors):
        parsed = parse(row_no, row, errors)
        if parsed is not None:
            parsed.fields = CountingDict(parsed.fields)
        return parsed

    monkeypatch.setattr(imports, "_parse_row", counted)
    CountingDict.lookups = 0
    with tenant_context(world.tenant):
        report = imports.products_bulk_import(
            actor=world.admin, rows=variant_rows(count), dry_run=True
        )
    assert (report.products_created, report.variants_created) == (count, count), report.errors
    return CountingDict.lookups


def test_work_per_row_does_not_grow_with_the_file(world_a, monkeypatch):
    small, large = (_row_lookups(world_a, count, monkeypatch) for count in (150, 600))
    assert large <= 4.5 * small  # linear: 4x the rows, ~4x the lookups (quadratic: ~16x)


def test_queries_do_not_grow_with_the_file(world_a):
    counts = []
    for count in (20, 400):
        with tenant_context(world_a.tenant), CaptureQueriesContext(connection) as captured:
            imports.products_bulk_import(actor=world_a.admin, rows=variant_rows(count))
        counts.append(len(captured))
        with tenant_context(world_a.tenant):  # the next file creates the same SKUs again
            from apps.catalog.models import Product

            Product.objects.filter(sku__startswith="LIN-").delete()
    assert counts[0] == counts[1]


def test_a_rejected_file_never_takes_the_catalogue_lock(world_a, monkeypatch):
    taken = []
    monkeypatch.setattr(imports, "catalogue_lock", lambda: taken.append(catalogue_lock()))
    rows = [{"sku": "BAD 1", "name": "Space in SKU"}]
    with tenant_context(world_a.tenant), pytest.raises(imports.ImportFailed):
        imports.products_bulk_import(actor=world_a.admin, rows=rows)
    with tenant_context(world_a.tenant):
        imports.products_bulk_import(actor=world_a.admin, rows=variant_rows(3), dry_run=True)
    assert taken == []
    with tenant_context(world_a.tenant):
        imports.products_bulk_import(actor=world_a.admin, rows=variant_rows(3))
    assert len(taken) == 1  # a good file: the lock for the final check and the writes only
