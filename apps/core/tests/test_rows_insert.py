"""`rows_insert`: new rows of several models in one round trip, exactly as `save()` would write
them, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_entry
from apps.catalog.models import Product, Unit
from apps.core.db import insert_compiled, rows_insert

pytestmark = pytest.mark.django_db


def test_parents_children_compiled_earlier_and_an_audit_row_in_one_round_trip(world_a):
    with tenant_context(world_a.tenant):
        kg = Unit(name="Kilogram", abbreviation="kg", allows_fraction=True)
        products = [
            Product(name=f"Beans {n}", sku=f"B-{n}", unit=kg, sell_price=Decimal("24.50"))
            for n in range(3)
        ]
        audit = audit_entry(action="test.insert", entity_type="unit", entity_id=kg.pk)
        compiled = insert_compiled(products)  # earlier, sent with the others
        assert not Unit.objects.exists()  # (the schema's search path is set by now)
        with CaptureQueriesContext(connection) as queries:
            rows_insert([kg], compiled, [audit])
        assert len(queries.captured_queries) == 1
        assert all(not obj._state.adding for obj in (kg, *products, audit))

        stored = {p.sku: p for p in Product.objects.filter(unit=kg)}
        assert sorted(stored) == ["B-0", "B-1", "B-2"]
        for product in products:  # what save() would have written, defaults and auto_now too
            row = stored[product.sku]
            assert (row.pk, row.name, row.sell_price, row.unit_id) == (
                product.pk, product.name, Decimal("24.50"), kg.pk,
            )  # fmt: skip
            assert row.created_at == product.created_at and row.created_at is not None
            assert row.status == Product._meta.get_field("status").default
        assert Unit.objects.get(pk=kg.pk).allows_fraction is True
    assert AuditLog.objects.filter(pk=audit.pk, action="test.insert").count() == 1


def test_a_failing_statement_leaves_none_of_the_rows(world_a):
    with tenant_context(world_a.tenant):
        Product.objects.create(name="Existing", sku="DUP-1", sell_price=Decimal("1.00"))
        kg = Unit(name="Kilogram", abbreviation="kg")
        clash = Product(name="Clash", sku="DUP-1", unit=kg, sell_price=Decimal("2.00"))
        with pytest.raises(IntegrityError), transaction.atomic():
            rows_insert([kg], [clash])
        assert not Unit.objects.filter(pk=kg.pk).exists()
        assert Product.objects.filter(sku="DUP-1").count() == 1


def test_a_batch_is_one_model_with_its_keys_set(world_a):
    with tenant_context(world_a.tenant):
        kg = Unit(name="Kilogram", abbreviation="kg")
        product = Product(name="Mixed", sku="M-1", sell_price=Decimal("1.00"))
        with CaptureQueriesContext(connection) as queries, pytest.raises(ValueError):
            rows_insert([kg, product])
        assert queries.captured_queries == []
        assert not Unit.objects.filter(pk=kg.pk).exists()
