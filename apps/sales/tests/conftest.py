from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog.models import Product
from apps.core.errors import ApplicationError
from apps.core.models import DocumentCounter
from apps.customers.models import Customer, CustomerLedgerEntry, LoyaltyEntry
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import AdjustItem, stock_adjust
from apps.sales.models import DueAllocation, Payment, Sale, SaleItem, SaleReturn
from apps.tenants.models import TenantSalesDay
from tests.factories.catalog import coffee_beans, gift_wrap, kilogram, still_water


@dataclass
class Shelf:
    water: Product  # 0.80, cost 0.30, 20 in S1
    beans: Product  # 24.00 per kg, cost 12.50, 5 kg in S1, sold by weight
    wrap: Product  # 1.00, does not track stock
    draft: Product  # not for sale


@pytest.fixture
def shelf(world_a) -> Shelf:
    with tenant_context(world_a.tenant):
        kg = kilogram()
        water = still_water()
        beans = coffee_beans(unit=kg)
        wrap = gift_wrap(sell_price=Decimal("1.00"))
        draft = Product.objects.create(
            name="Prototype", sku="D-1", status="DRAFT", sell_price=Decimal("9.00")
        )
        stock_adjust(
            actor=world_a.admin,
            store_id=world_a.store.pk,
            reason="FOUND",
            items=[
                AdjustItem(water.pk, None, Decimal("20")),
                AdjustItem(beans.pk, None, Decimal("5")),
            ],
        )
    connection.set_schema_to_public()
    return Shelf(water=water, beans=beans, wrap=wrap, draft=draft)


def sales_state(world) -> dict:
    """Everything a checkout may write for `world`'s company."""
    with tenant_context(world.tenant):
        state = {
            "sales": list(Sale.objects.order_by("pk").values()),
            "items": SaleItem.objects.count(),
            "payments": Payment.objects.count(),
            "returns": SaleReturn.objects.count(),
            "levels": list(StockLevel.objects.order_by("pk").values("pk", "quantity")),
            "movements": StockMovement.objects.count(),
            "customers": list(Customer.objects.order_by("pk").values()),
            "ledger": CustomerLedgerEntry.objects.count(),
            "loyalty": LoyaltyEntry.objects.count(),
            "counters": list(DocumentCounter.objects.order_by("series").values()),
        }
    connection.set_schema_to_public()
    state["audit"] = AuditLog.objects.filter(tenant=world.tenant).count()
    return state


@pytest.fixture
def committed(worlds, django_db_blocker):
    """Tenant A with committed writes allowed and a product holding 50 in the cashier's store;
    everything the test wrote is removed afterwards (sales, the till's shifts, cash log and Z
    reports; the frozen and append-only ones under maintenance)."""
    world = worlds["a"]
    with django_db_blocker.unblock():
        with tenant_context(world.tenant):
            product = Product.objects.create(
                name="Hot item", sku="HOT-1", status="ACTIVE", sell_price=Decimal("2.50")
            )
            stock_adjust(
                actor=world.admin, store_id=world.store.pk, reason="FOUND",
                items=[AdjustItem(product.pk, None, Decimal("50"))],
            )  # fmt: skip
        connection.set_schema_to_public()
        yield world, product
        with tenant_context(world.tenant), audit_maintenance():
            DueAllocation.objects.all().delete()
            Payment.objects.all().delete()
            SaleReturn.objects.all().delete()
            SaleItem.objects.all().delete()
            Sale.objects.all().delete()
            # the till's rows (frozen outside maintenance), after the sales that reference them
            from apps.pos.models import CashEvent, ParkedCart, Shift, ZReport

            for model in (ZReport, CashEvent, ParkedCart, Shift):
                model.objects.all().delete()
            DocumentCounter.objects.filter(series__startswith="z:").delete()
            AuditLog.objects.filter(entity_type="shift").delete()
            StockMovement.objects.filter(product=product).delete()
            StockLevel.objects.filter(product=product).delete()
            product.delete()
            DocumentCounter.objects.filter(series__startswith="sale:").delete()
            AuditLog.objects.filter(entity_type="sale").delete()
            TenantSalesDay.objects.filter(tenant=world.tenant).delete()
            AuditLog.objects.filter(action="stock.adjust", entity_id=str(world.store.pk)).delete()
        connection.set_schema_to_public()


def run_threads(world, count: int, work, threads: int = 16) -> list:
    """`work(n)` for n in range(count) over `threads` threads with their own connections,
    released together by a barrier; returns every outcome (a result or an error code)."""
    barrier = threading.Barrier(threads)
    outcomes: list = []
    lock = threading.Lock()

    def body(number: int) -> None:
        try:
            connection.set_tenant(world.tenant)
            barrier.wait(timeout=30)
            for n in range(number, count, threads):
                try:
                    result = work(n)
                except ApplicationError as exc:
                    result = exc.code
                with lock:
                    outcomes.append(result)
        except Exception as exc:
            with lock:
                outcomes.append(repr(exc))
        finally:
            connections.close_all()

    started = [threading.Thread(target=body, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    return outcomes
