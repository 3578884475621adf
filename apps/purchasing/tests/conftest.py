from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.catalog.models import Product, ProductVariant
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import AdjustItem, stock_adjust
from apps.inventory.tests.conftest import goods  # noqa: F401  (shared fixture)
from apps.purchasing import services
from apps.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderItem,
    PurchaseReceipt,
    Supplier,
    SupplierPayment,
)

D = Decimal
PURCHASES = "/api/v1/purchases"


def purchasing_state(world) -> dict:
    """Everything a purchasing write may change."""
    with tenant_context(world.tenant):
        state = {
            "suppliers": list(Supplier.objects.order_by("pk").values()),
            "orders": list(PurchaseOrder.objects.order_by("pk").values()),
            "items": list(PurchaseOrderItem.objects.order_by("pk").values()),
            "receipts": PurchaseReceipt.objects.count(),
            "payments": SupplierPayment.objects.count(),
            "levels": list(StockLevel.objects.order_by("pk").values("pk", "quantity")),
            "movements": StockMovement.objects.count(),
            "costs": list(Product.objects.order_by("pk").values_list("pk", "cost_price")),
            "variant_costs": list(ProductVariant.objects.order_by("pk").values_list("pk", "cost")),
        }
    connection.set_schema_to_public()
    state["audit"] = AuditLog.objects.filter(tenant=world.tenant).count()
    return state


def stock(world, product, quantity: str, store=None) -> None:
    """Puts `quantity` of `product` on hand (a FOUND adjustment)."""
    with tenant_context(world.tenant):
        stock_adjust(
            actor=world.admin, store_id=(store or world.store).pk, reason="FOUND",
            items=[AdjustItem(product.pk, None, D(quantity))],
        )  # fmt: skip


def order(world, supplier, *lines, store=None) -> PurchaseOrder:
    """An order of (product, quantity, unit cost[, variant]) lines, through the service."""
    with tenant_context(world.tenant):
        return services.purchase_create(
            actor=world.manager,
            supplier_id=supplier.pk,
            store_id=(store or world.store).pk,
            items=[
                services.OrderLine(
                    product_id=line[0].pk,
                    variant_id=line[3].pk if len(line) > 3 else None,
                    quantity=D(line[1]),
                    unit_cost=D(line[2]),
                )
                for line in lines
            ],
        )


@pytest.fixture
def acme(world_a) -> Supplier:
    with tenant_context(world_a.tenant):
        return Supplier.objects.create(name="Acme Foods")
