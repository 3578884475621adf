"""Store stats and the company dashboard show stock value, low levels and open transfers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_store_stats_and_dashboard(api, world_a, goods):
    client = api(world_a.admin)
    body = {
        "storeId": str(world_a.store.pk),
        "reason": "FOUND",
        "items": [
            {"productId": str(goods.water.pk), "delta": "3"},  # 0.90, low (default 5)
            {"productId": str(goods.beans.pk), "delta": "2.5"},  # 31.25, low
        ],
    }
    assert client.post("/api/v1/inventory/stock/adjust", body, format="json").status_code == 200
    body["storeId"], body["items"] = str(world_a.warehouse.pk), body["items"][:1]
    body["items"][0]["delta"] = "100"  # 30.00, not low
    assert client.post("/api/v1/inventory/stock/adjust", body, format="json").status_code == 200
    transfer = {
        "fromStoreId": str(world_a.warehouse.pk),
        "toStoreId": str(world_a.store.pk),
        "items": [{"productId": str(goods.water.pk), "quantity": "10"}],
    }
    for _ in range(2):
        assert (
            client.post("/api/v1/inventory/transfers", transfer, format="json").status_code == 201
        )
    stats = client.get(f"/api/v1/stores/{world_a.store.pk}/stats").json()["data"]
    assert (stats["stockValue"], stats["lowStockCount"], stats["openTransfers"]) == ("32.15", 2, 2)
    other = client.get(f"/api/v1/stores/{world_a.other_store.pk}/stats").json()["data"]
    assert (other["stockValue"], other["lowStockCount"], other["openTransfers"]) == ("0.00", 0, 0)
    dashboard = client.get("/api/v1/tenants/me/dashboard").json()["data"]
    assert (dashboard["stockValue"], dashboard["lowStockCount"], dashboard["openTransfers"]) == (
        "62.15",
        2,
        2,
    )
    assert dashboard["products"] == 4  # the world's Cola, water, beans, wrap
