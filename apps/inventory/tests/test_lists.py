"""Stock and movement lists: filters, the cashier's stores only, and a query count that does not
grow with the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.inventory.models import StockMovement

pytestmark = pytest.mark.django_db

STOCK = "/api/v1/inventory/stock"
MOVEMENTS = "/api/v1/inventory/movements"


def adjust(client, store, items, reason="FOUND"):
    body = {
        "storeId": str(store.pk),
        "reason": reason,
        "items": [{"productId": str(p.pk), "delta": d} for p, d in items],
    }
    response = client.post("/api/v1/inventory/stock/adjust", body, format="json")
    assert response.status_code == 200, response.json()


@pytest.fixture
def spread(api, world_a, goods):
    """S1: water 3 (low: default threshold 5), beans 9.5; S2: water 40; W1: beans 1."""
    client = api(world_a.manager)
    adjust(client, world_a.store, [(goods.water, "3"), (goods.beans, "9.5")])
    adjust(client, world_a.other_store, [(goods.water, "40")])
    adjust(client, world_a.warehouse, [(goods.beans, "1")])
    return client


def rows(response) -> list[tuple]:
    assert response.status_code == 200, response.json()
    return [(r["storeName"], r["sku"], r["quantity"], r["isLow"]) for r in response.json()["data"]]


def test_filters_and_sorting(spread, world_a, goods):
    s1, s2, w1 = world_a.store.name, world_a.other_store.name, world_a.warehouse.name
    everything = rows(spread.get(STOCK, {"sort": "quantity"}))
    assert everything == [
        (w1, "B-1", "1", True),
        (s1, "W-1", "3", True),
        (s1, "B-1", "9.5", False),
        (s2, "W-1", "40", False),
    ]
    assert rows(spread.get(STOCK, {"storeId": str(world_a.store.pk), "sort": "-quantity"})) == [
        (s1, "B-1", "9.5", False),
        (s1, "W-1", "3", True),
    ]
    # the category filter includes subcategories: water is in "Soft drinks" under "Drinks"
    drinks = rows(spread.get(STOCK, {"categoryId": str(world_a.category.pk), "sort": "quantity"}))
    assert drinks == [(s1, "W-1", "3", True), (s2, "W-1", "40", False)]
    assert rows(spread.get(STOCK, {"search": "coffee", "sort": "quantity"})) == [
        (w1, "B-1", "1", True),
        (s1, "B-1", "9.5", False),
    ]
    assert rows(spread.get(STOCK, {"lowOnly": "true", "sort": "quantity"})) == [
        (w1, "B-1", "1", True),
        (s1, "W-1", "3", True),
    ]
    assert rows(spread.get(f"{STOCK}/low", {"sort": "-quantity"})) == [
        (s1, "W-1", "3", True),
        (w1, "B-1", "1", True),
    ]
    assert spread.get(STOCK, {"lowOnly": "yes"}).status_code == 400


def test_a_cashier_sees_only_their_stores(api, spread, world_a):
    cashier = api(world_a.cashier)
    assert {r[0] for r in rows(cashier.get(STOCK))} == {world_a.store.name}
    assert rows(cashier.get(STOCK, {"storeId": str(world_a.other_store.pk)})) == []
    movements = cashier.get(MOVEMENTS)
    assert {m["storeId"] for m in movements.json()["data"]} == {str(world_a.store.pk)}


def test_stock_list_query_count_does_not_grow(
    spread, goods, world_a, django_assert_max_num_queries
):
    # auth (with the search path), the company settings, count, page
    with django_assert_max_num_queries(4):
        assert len(rows(spread.get(STOCK))) == 4
    adjust(spread, world_a.warehouse, [(goods.water, "2")])
    with django_assert_max_num_queries(4):
        assert len(rows(spread.get(STOCK))) == 5


def test_movement_filters(spread, world_a, goods):
    adjust(spread, world_a.store, [(goods.water, "-1")], reason="DAMAGE")
    by_store = spread.get(MOVEMENTS, {"storeId": str(world_a.store.pk)}).json()["data"]
    seen = [(m["productId"], m["delta"], m["quantityAfter"]) for m in by_store]
    # newest first; the two movements of one request share their time (then any order)
    assert seen[0] == (str(goods.water.pk), "-1", "2")
    assert sorted(seen[1:]) == sorted(
        [(str(goods.water.pk), "3", "3"), (str(goods.beans.pk), "9.5", "9.5")]
    )
    damage = spread.get(MOVEMENTS, {"productId": str(goods.water.pk), "type": "ADJUSTMENT"})
    assert sorted(m["delta"] for m in damage.json()["data"]) == ["-1", "3", "40"]
    first = damage.json()["data"][0]
    assert first == {
        "id": first["id"],
        "storeId": str(world_a.store.pk),
        "productId": str(goods.water.pk),
        "variantId": None,
        "type": "ADJUSTMENT",
        "delta": "-1",
        "quantityAfter": "2",
        "reason": "DAMAGE",
        "note": "",
        "reference": None,
        "userId": str(world_a.manager.pk),
        "createdAt": first["createdAt"],
    }
    by_user = spread.get(MOVEMENTS, {"userId": str(world_a.admin.pk)})
    assert by_user.json()["data"] == []
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert spread.get(MOVEMENTS, {"from": future}).json()["data"] == []
    assert len(spread.get(MOVEMENTS, {"to": future}).json()["data"]) == 5
    assert spread.get(MOVEMENTS, {"type": "NOPE"}).status_code == 400


def test_movement_list_query_count_does_not_grow(
    spread, world_a, goods, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):  # auth, count, page
        assert spread.get(MOVEMENTS).status_code == 200
    adjust(spread, world_a.store, [(goods.water, "1"), (goods.beans, "1")])
    with django_assert_max_num_queries(3):
        response = spread.get(MOVEMENTS)
    assert response.json()["meta"]["total"] == 6


def test_transfer_movements_carry_their_reference(spread, world_a, goods):
    body = {
        "fromStoreId": str(world_a.other_store.pk),
        "toStoreId": str(world_a.store.pk),
        "items": [{"productId": str(goods.water.pk), "quantity": "4"}],
    }
    transfer = spread.post("/api/v1/inventory/transfers", body, format="json").json()["data"]
    assert spread.post(f"/api/v1/inventory/transfers/{transfer['id']}/ship").status_code == 200
    listed = spread.get(MOVEMENTS, {"referenceId": transfer["id"]}).json()["data"]
    assert [(m["type"], m["delta"], m["reference"]) for m in listed] == [
        ("TRANSFER_OUT", "-4", {"type": "TRANSFER", "id": transfer["id"]})
    ]
    with tenant_context(world_a.tenant):
        assert StockMovement.objects.filter(reference_id=transfer["id"]).count() == 1


def test_the_ledger_stops_counting_at_its_cap_but_every_page_reads(spread, monkeypatch):
    from apps.inventory.api.views import MovementListView

    monkeypatch.setattr(MovementListView, "count_cap", 3)  # 4 movements in `spread`
    first = spread.get(MOVEMENTS, {"limit": 2}).json()
    assert first["meta"] == {
        "page": 1,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "totalCapped": True,
    }
    last = spread.get(MOVEMENTS, {"limit": 2, "page": 2}).json()["data"]
    beyond = spread.get(MOVEMENTS, {"limit": 2, "page": 3}).json()["data"]
    assert (len(first["data"]), len(last), len(beyond)) == (2, 2, 0)
    ids = [m["id"] for m in first["data"] + last]
    assert len(set(ids)) == 4
    monkeypatch.setattr(MovementListView, "count_cap", 4)  # exactly at the cap: exact total
    assert spread.get(MOVEMENTS).json()["meta"] == {
        "page": 1, "limit": 20, "total": 4, "totalPages": 1,
    }  # fmt: skip
