"""Stock counts: expected quantities captured when a line is counted, sales made meanwhile kept at
finalize, full counts zeroing what was not found, a variance report, and the state rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.inventory.models import StockMovement
from apps.inventory.tests.conftest import ledger_mismatches, level_of, movements_of

pytestmark = pytest.mark.django_db

COUNTS = "/api/v1/inventory/counts"


def start(client, world, scope="PARTIAL"):
    response = client.post(COUNTS, {"storeId": str(world.store.pk), "scope": scope}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def submit(client, count, *items):
    body = {"items": [{"productId": str(p.pk), "quantity": q} for p, q in items]}
    return client.post(f"{COUNTS}/{count['id']}/lines", body, format="json")


def sell(client, world, product, units: str):
    """Stands in for a sale until the sales module exists: stock leaves the shelf."""
    body = {
        "storeId": str(world.store.pk),
        "reason": "OTHER",
        "items": [{"productId": str(product.pk), "delta": f"-{units}"}],
    }
    assert client.post("/api/v1/inventory/stock/adjust", body, format="json").status_code == 200


def test_sales_made_during_the_count_are_not_lost(stocked, world_a, goods):
    count = start(stocked, world_a)
    assert (count["number"], count["status"], count["lines"]) == (1, "OPEN", [])
    counted = submit(stocked, count, (goods.water, "8"))  # the shelf holds 8, the books say 10
    assert counted.status_code == 200
    line = counted.json()["data"]["lines"][0]
    assert (line["expectedQuantity"], line["countedQuantity"], line["difference"]) == (
        "10",
        "8",
        "-2",
    )
    sell(stocked, world_a, goods.water, "3")  # sold after counting, before finalizing: books 7

    final = stocked.post(f"{COUNTS}/{count['id']}/finalize")
    assert final.status_code == 200
    data = final.json()["data"]
    assert data["status"] == "FINALIZED"
    assert level_of(world_a, goods.water) == Decimal("5")  # 7 on the books, 2 missing
    assert movements_of(world_a, goods.water)[-1] == ("COUNT", Decimal("-2"), Decimal("5"))
    assert data["variance"] == {
        "linesCounted": 1,
        "linesDifferent": 1,
        "unitsOver": "0",
        "unitsShort": "2",
        "valueOver": "0.00",
        "valueShort": "0.60",
        "valueDifference": "-0.60",
    }
    assert data["lines"][0]["unitCost"] == "0.3000"
    assert data["lines"][0]["valueDifference"] == "-0.60"
    assert level_of(world_a, goods.beans) == Decimal("4")  # a partial count leaves the rest
    with tenant_context(world_a.tenant):
        movement = StockMovement.objects.get(type="COUNT")
        assert (movement.reference_type, str(movement.reference_id)) == ("COUNT", count["id"])
        assert ledger_mismatches() == []


def test_a_later_count_of_an_item_replaces_the_earlier_one(api, stocked, world_a, goods):
    count = start(stocked, world_a)
    assert submit(stocked, count, (goods.water, "8"), (goods.beans, "4.25")).status_code == 200
    sell(stocked, world_a, goods.water, "1")  # books 9
    again = submit(api(world_a.manager), count, (goods.water, "9"))  # recounted: the shelf holds 9
    lines = {line["sku"]: line for line in again.json()["data"]["lines"]}
    assert len(lines) == 2
    assert (lines["W-1"]["expectedQuantity"], lines["W-1"]["countedQuantity"]) == ("9", "9")
    assert lines["W-1"]["countedBy"] == str(world_a.manager.pk)
    assert stocked.post(f"{COUNTS}/{count['id']}/finalize").status_code == 200
    assert (level_of(world_a, goods.water), level_of(world_a, goods.beans)) == (9, Decimal("4.25"))
    assert [m[0] for m in movements_of(world_a, goods.water)].count("COUNT") == 0  # no difference


def test_a_full_count_zeroes_what_was_not_found(stocked, world_a, goods):
    count = start(stocked, world_a, scope="FULL")
    assert submit(stocked, count, (goods.water, "10")).status_code == 200
    final = stocked.post(f"{COUNTS}/{count['id']}/finalize").json()["data"]
    assert (level_of(world_a, goods.water), level_of(world_a, goods.beans)) == (10, 0)
    assert movements_of(world_a, goods.beans)[-1] == ("COUNT", Decimal("-4"), Decimal("0"))
    assert final["variance"]["linesCounted"] == 2
    assert final["variance"]["valueShort"] == "50.00"  # 4 kg x 12.50
    with tenant_context(world_a.tenant):
        assert ledger_mismatches() == []


def test_one_open_count_per_location_and_the_state_rules(stocked, world_a, goods):
    count = start(stocked, world_a)
    again = stocked.post(COUNTS, {"storeId": str(world_a.store.pk)}, format="json")
    assert again.status_code == 409
    cancelled = stocked.post(f"{COUNTS}/{count['id']}/cancel")
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    for action in ("finalize", "cancel"):
        refused = stocked.post(f"{COUNTS}/{count['id']}/{action}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "INVALID_STATE")
    refused = submit(stocked, count, (goods.water, "1"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "INVALID_STATE")
    assert start(stocked, world_a)["number"] == 2  # the location is free again
    assert level_of(world_a, goods.water) == Decimal("10")


def test_count_input_errors_change_nothing(stocked, world_a, goods):
    count = start(stocked, world_a)
    for items, field in (
        ([(goods.water, "1.5")], "items.0.quantity"),  # whole units
        ([(goods.water, "-1")], "items.0.quantity"),
        ([(world_a.product, "1")], "items.0.variantId"),  # has variants
    ):
        response = submit(stocked, count, *items)
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == field
    untracked = submit(stocked, count, (goods.wrap, "1"))
    assert untracked.status_code == 422
    assert stocked.get(f"{COUNTS}/{count['id']}").json()["data"]["lines"] == []


def test_a_cashier_reads_counts_of_their_stores_only(api, stocked, world_a, goods):
    mine = start(stocked, world_a)
    other = stocked.post(COUNTS, {"storeId": str(world_a.other_store.pk)}, format="json")
    cashier = api(world_a.cashier)
    assert [c["id"] for c in cashier.get(COUNTS).json()["data"]] == [mine["id"]]
    assert cashier.get(f"{COUNTS}/{other.json()['data']['id']}").status_code == 404
    assert (
        cashier.post(COUNTS, {"storeId": str(world_a.store.pk)}, format="json").status_code == 403
    )


def test_count_list_query_count(stocked, world_a, goods, django_assert_max_num_queries):
    count = start(stocked, world_a)
    assert submit(stocked, count, (goods.water, "9"), (goods.beans, "4")).status_code == 200
    with django_assert_max_num_queries(4):  # auth, count, page, lines
        listed = stocked.get(COUNTS, {"status": "OPEN"})
    assert [len(c["lines"]) for c in listed.json()["data"]] == [2]
