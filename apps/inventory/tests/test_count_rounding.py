"""A count's values at cost round half up, like every other amount (apps/core/money.py): a
difference worth exactly half a cent is a cent, not 0.00 (half-to-even, before issue 27)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product

pytestmark = pytest.mark.django_db

COUNTS = "/api/v1/inventory/counts"


def test_count_values_round_half_up(stocked, world_a, goods):
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk=goods.beans.pk).update(cost_price=Decimal("5.0000"))
    count = stocked.post(COUNTS, {"storeId": str(world_a.store.pk)}, format="json").json()["data"]
    body = {"items": [{"productId": str(goods.beans.pk), "quantity": "4.001"}]}  # books: 4 kg
    assert stocked.post(f"{COUNTS}/{count['id']}/lines", body, format="json").status_code == 200

    final = stocked.post(f"{COUNTS}/{count['id']}/finalize")
    assert final.status_code == 200
    data = final.json()["data"]
    # 0.001 kg x 5.0000 = 0.005: half up 0.01 (half-to-even gave 0.00)
    assert data["lines"][0]["valueDifference"] == "0.01"
    assert data["variance"] == {
        "linesCounted": 1,
        "linesDifferent": 1,
        "unitsOver": "0.001",
        "unitsShort": "0",
        "valueOver": "0.01",
        "valueShort": "0.00",
        "valueDifference": "0.01",
    }
