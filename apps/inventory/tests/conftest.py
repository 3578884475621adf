from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.catalog.models import Category, Product
from apps.inventory.models import StockLevel, StockMovement
from tests.factories.catalog import coffee_beans, gift_wrap, kilogram, still_water

# Every level equals the sum of its movements: the ledger's invariant, as one query.
LEDGER_MISMATCHES = """
SELECT l.store_id, l.product_id, l.variant_id, l.quantity, COALESCE(SUM(m.delta), 0) AS moved
FROM inventory_stocklevel l
LEFT JOIN inventory_stockmovement m
  ON m.store_id = l.store_id AND m.product_id = l.product_id
 AND m.variant_id IS NOT DISTINCT FROM l.variant_id
GROUP BY l.id
HAVING l.quantity <> COALESCE(SUM(m.delta), 0)
"""


def ledger_mismatches() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_MISMATCHES)
        return cursor.fetchall()


@dataclass
class Goods:
    water: Product  # no variants, whole units, cost 0.30
    beans: Product  # sold by the kilogram (fractions), cost 12.50
    wrap: Product  # does not track stock
    soft_drinks: Category  # a subcategory of the world's "Drinks"


@pytest.fixture
def goods(world_a) -> Goods:
    """Plain products of tenant A, created in the test's transaction."""
    with tenant_context(world_a.tenant):
        kg = kilogram()
        soft = Category.objects.get(name="Soft drinks")
        water = still_water(category=soft)
        beans = coffee_beans(unit=kg)
        wrap = gift_wrap()
    return Goods(water=water, beans=beans, wrap=wrap, soft_drinks=soft)


@pytest.fixture
def stocked(api, world_a, goods):
    """Water 10 and beans 4 kg in the cashier's store (S1); an ADMIN client."""
    client = api(world_a.admin)
    body = {
        "storeId": str(world_a.store.pk),
        "reason": "FOUND",
        "items": [
            {"productId": str(goods.water.pk), "delta": "10"},
            {"productId": str(goods.beans.pk), "delta": "4"},
        ],
    }
    assert client.post("/api/v1/inventory/stock/adjust", body, format="json").status_code == 200
    return client


def level_of(world, product, store=None, variant=None) -> Decimal | None:
    with tenant_context(world.tenant):
        level = StockLevel.objects.filter(
            store=store or world.store, product=product, variant=variant
        ).first()
        return None if level is None else level.quantity


def movements_of(world, product, store=None) -> list[tuple]:
    with tenant_context(world.tenant):
        return list(
            StockMovement.objects.filter(product=product, store=store or world.store)
            .order_by("created_at", "quantity_after")
            .values_list("type", "delta", "quantity_after")
        )
