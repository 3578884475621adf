"""The console's copy of each company's usage (apps.tenants.usage): recounted by the services that
change what it counts, exact under parallel creators, rebuilt by `manage.py usage_recount`."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog import services as catalog
from apps.catalog.imports import products_bulk_import
from apps.catalog.models import Product
from apps.core.plans import PlanResource, resource_usage
from apps.stores import services as stores
from apps.tenants.models import TenantSalesDay, TenantUsage
from apps.tenants.usage import USAGE_COLUMNS, tenant_usage_recount
from tests.factories.sales import sale_make

pytestmark = pytest.mark.django_db


def usage(tenant) -> tuple[int, int, int]:
    row = TenantUsage.objects.get(tenant=tenant)
    return row.stores, row.warehouses, row.products


def recounted(tenant) -> tuple[int, int, int]:
    """The copy, recounted first: other tests' committed clean-ups delete rows with the ORM,
    not through the services, which leaves the session's companies' copy behind."""
    with tenant_context(tenant):
        tenant_usage_recount(tenant=tenant, resources=tuple(USAGE_COLUMNS))
    return usage(tenant)


def live(tenant) -> tuple[int, int, int]:
    with tenant_context(tenant):
        return tuple(
            resource_usage(resource, tenant=tenant)
            for resource in (PlanResource.STORES, PlanResource.WAREHOUSES, PlanResource.PRODUCTS)
        )


def test_a_new_company_starts_at_zero(world_a):
    from apps.tenants.services import tenant_create

    created = tenant_create(
        name="Zero Ltd", slug="zero-ltd", owner_email="o@zero.test",
        owner_password="Corr3ct-Horse-Battery", owner_name="Owner",
    )  # fmt: skip
    assert usage(created.tenant) == (0, 0, 0)
    assert not TenantSalesDay.objects.filter(tenant=created.tenant).exists()


def test_stores_and_warehouses_are_recounted_on_create_kind_change_and_delete(world_a):
    tenant, admin = world_a.tenant, world_a.admin
    stores_before, warehouses_before, products = recounted(tenant)
    assert (stores_before, warehouses_before, products) == live(tenant)
    with tenant_context(tenant):
        store = stores.store_create(actor=admin, name="Usage shop", code="US1")
        assert usage(tenant) == (stores_before + 1, warehouses_before, products)
        stores.store_update(actor=admin, store_id=store.pk, kind="WAREHOUSE")
        assert usage(tenant) == (stores_before, warehouses_before + 1, products)
        stores.store_delete(actor=admin, store_id=store.pk)
    assert usage(tenant) == (stores_before, warehouses_before, products) == live(tenant)


def test_products_are_recounted_on_create_delete_and_import(world_a):
    tenant, admin = world_a.tenant, world_a.admin
    stores_n, warehouses_n, before = recounted(tenant)
    with tenant_context(tenant):
        product = catalog.product_create(actor=admin, name="Usage tea", sku="USE-1")
        assert usage(tenant)[2] == before + 1
        rows = [
            {"sku": f"USE-IMP-{n}", "name": f"Imported {n}", "sellPrice": "1.00"} for n in range(3)
        ]
        report = products_bulk_import(actor=admin, rows=rows)
        assert report.products_created == 3, report.errors
        assert usage(tenant)[2] == before + 4
        catalog.product_delete(actor=admin, product_id=product.pk)
    assert usage(tenant) == (stores_n, warehouses_n, before + 3) == live(tenant)


def test_a_refused_create_leaves_the_figures_unchanged(world_a):
    tenant, admin = world_a.tenant, world_a.admin
    before = usage(tenant)
    with tenant_context(tenant), pytest.raises(Exception) as refused:
        catalog.product_create(actor=admin, name="Dup", sku=world_a.product.sku)
    assert getattr(refused.value, "code", None) == "CONFLICT"
    assert usage(tenant) == before


@pytest.fixture
def committed_products(worlds, django_db_blocker):
    """Tenant B with committed writes allowed; the products made are removed afterwards and the
    copy recounted."""
    world = worlds["b"]
    with django_db_blocker.unblock():
        yield world
        with tenant_context(world.tenant), audit_maintenance():
            made = Product.objects.filter(sku__startswith="PAR-")
            AuditLog.objects.filter(
                entity_type="product",
                entity_id__in=[str(p) for p in made.values_list("pk", flat=True)],
            ).delete()
            made.delete()
            call_command("usage_recount")
        connection.set_schema_to_public()


def test_parallel_creates_each_counted(committed_products):
    """Eight creators released together by a barrier: each recount waits for the previous
    holder's commit, so the copy ends at the live count, not one short."""
    world = committed_products
    before = live(world.tenant)[2]  # read only: the test's own transaction must not lock the row
    barrier = threading.Barrier(8)
    failures: list = []

    def create(n: int) -> None:
        try:
            with tenant_context(world.tenant):
                barrier.wait(timeout=30)
                catalog.product_create(actor=world.admin, name=f"Parallel {n}", sku=f"PAR-{n}")
        except Exception as exc:  # reported below
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert usage(world.tenant)[2] == before + 8 == live(world.tenant)[2]


def test_usage_recount_rebuilds_the_copy_from_the_schemas(world_a, world_b):
    TenantUsage.objects.filter(tenant=world_a.tenant).update(stores=99, products=0)
    TenantSalesDay.objects.create(
        tenant=world_a.tenant, day="2020-01-01", sales_count=7, sales_total=Decimal("1.00")
    )
    call_command("usage_recount")
    assert usage(world_a.tenant) == live(world_a.tenant)
    assert usage(world_b.tenant) == live(world_b.tenant)
    assert not TenantSalesDay.objects.filter(tenant=world_a.tenant, day="2020-01-01").exists()


def test_the_migration_backfills_existing_companies(world_a, world_b):
    """Migration 0010 counts every existing company in its schema with its own SQL."""
    import importlib

    from django.apps import apps as registry
    from django.db import connection as db

    migration = importlib.import_module("apps.tenants.migrations.0010_console_usage")
    with tenant_context(world_a.tenant):
        sale_make(
            store=world_a.store, cashier_id=world_a.cashier.pk, product=world_a.product, sequence=77
        )
    expected = {tenant.pk: live(tenant) for tenant in (world_a.tenant, world_b.tenant)}
    TenantUsage.objects.all().delete()
    TenantSalesDay.objects.all().delete()
    with db.schema_editor() as editor:
        migration.backfill(registry, editor)
    assert {tenant.pk: usage(tenant) for tenant in (world_a.tenant, world_b.tenant)} == expected
    day = TenantSalesDay.objects.get(tenant=world_a.tenant)
    assert (day.sales_count, day.sales_total) == (1, Decimal("2.00"))
    assert not TenantSalesDay.objects.filter(tenant=world_b.tenant).exists()
