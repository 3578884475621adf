"""Transfers: every allowed and refused transition, with the quantities at both ends exact after
each step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.inventory.models import StockMovement, Transfer
from apps.inventory.tests.conftest import ledger_mismatches, level_of

pytestmark = pytest.mark.django_db

TRANSFERS = "/api/v1/inventory/transfers"


def create(client, world, goods, water="6", beans="1.5", to=None):
    body = {
        "fromStoreId": str(world.store.pk),
        "toStoreId": str((to or world.warehouse).pk),
        "note": "Restock the warehouse",
        "items": [
            {"productId": str(goods.water.pk), "quantity": water},
            {"productId": str(goods.beans.pk), "quantity": beans},
        ],
    }
    return client.post(TRANSFERS, body, format="json")


def ends(world, goods) -> tuple:
    """(water at S1, beans at S1, water at W1, beans at W1)."""
    return (
        level_of(world, goods.water),
        level_of(world, goods.beans),
        level_of(world, goods.water, world.warehouse),
        level_of(world, goods.beans, world.warehouse),
    )


def act(client, transfer_id, action, body=None):
    return client.post(f"{TRANSFERS}/{transfer_id}/{action}", body or {}, format="json")


def test_create_ship_receive_in_full(stocked, world_a, goods):
    created = create(stocked, world_a, goods)
    assert created.status_code == 201, created.json()
    data = created.json()["data"]
    assert (data["number"], data["status"], data["note"]) == (1, "PENDING", "Restock the warehouse")
    assert [(i["quantity"], i["receivedQuantity"]) for i in data["items"]] == [
        ("6", None),
        ("1.5", None),
    ]
    assert ends(world_a, goods) == (10, 4, None, None)  # nothing moves yet

    shipped = act(stocked, data["id"], "ship")
    assert shipped.status_code == 200
    assert shipped.json()["data"]["status"] == "IN_TRANSIT"
    assert shipped.json()["data"]["shippedBy"] == str(world_a.admin.pk)
    assert ends(world_a, goods) == (4, Decimal("2.5"), None, None)

    received = act(stocked, data["id"], "receive")
    assert received.status_code == 200
    body = received.json()["data"]
    assert body["status"] == "COMPLETED"
    assert [(i["receivedQuantity"], i["shortfall"]) for i in body["items"]] == [
        ("6", "0"),
        ("1.5", "0"),
    ]
    assert ends(world_a, goods) == (4, Decimal("2.5"), 6, Decimal("1.5"))
    with tenant_context(world_a.tenant):
        kinds = sorted(
            StockMovement.objects.filter(reference_id=data["id"]).values_list("type", "delta")
        )
        assert kinds == [
            ("TRANSFER_IN", Decimal("1.5")),
            ("TRANSFER_IN", Decimal("6")),
            ("TRANSFER_OUT", Decimal("-6")),
            ("TRANSFER_OUT", Decimal("-1.5")),
        ]
        assert ledger_mismatches() == []


def test_a_shortfall_stays_visible_and_is_not_returned(stocked, world_a, goods):
    transfer = create(stocked, world_a, goods).json()["data"]
    assert act(stocked, transfer["id"], "ship").status_code == 200
    water_item = transfer["items"][0]["id"]
    received = act(
        stocked, transfer["id"], "receive", {"items": [{"itemId": water_item, "quantity": "5"}]}
    )
    assert received.status_code == 200
    items = received.json()["data"]["items"]
    assert [(i["receivedQuantity"], i["shortfall"]) for i in items] == [("5", "1"), ("1.5", "0")]
    assert ends(world_a, goods) == (4, Decimal("2.5"), 5, Decimal("1.5"))


@pytest.mark.parametrize(
    "items, field",
    [
        (lambda t: [{"itemId": t["items"][0]["id"], "quantity": "7"}], "items.0.quantity"),
        (lambda t: [{"itemId": t["items"][0]["id"], "quantity": "2.5"}], "items.0.quantity"),
        (lambda t: [{"itemId": t["id"], "quantity": "1"}], "items.0.itemId"),
    ],
    ids=["more-than-shipped", "fraction-of-whole-units", "not-an-item"],
)
def test_a_bad_receipt_is_400_and_changes_nothing(stocked, world_a, goods, items, field):
    transfer = create(stocked, world_a, goods).json()["data"]
    assert act(stocked, transfer["id"], "ship").status_code == 200
    response = act(stocked, transfer["id"], "receive", {"items": items(transfer)})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
    assert ends(world_a, goods) == (4, Decimal("2.5"), None, None)
    with tenant_context(world_a.tenant):
        assert Transfer.objects.get(pk=transfer["id"]).status == "IN_TRANSIT"


def test_cancel_from_pending_moves_nothing(stocked, world_a, goods):
    transfer = create(stocked, world_a, goods).json()["data"]
    cancelled = act(stocked, transfer["id"], "cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    assert ends(world_a, goods) == (10, 4, None, None)
    with tenant_context(world_a.tenant):
        assert not StockMovement.objects.filter(reference_id=transfer["id"]).exists()


def test_cancel_in_transit_returns_the_stock_to_the_source(stocked, world_a, goods):
    transfer = create(stocked, world_a, goods).json()["data"]
    assert act(stocked, transfer["id"], "ship").status_code == 200
    assert act(stocked, transfer["id"], "cancel").status_code == 200
    assert ends(world_a, goods) == (10, 4, None, None)
    with tenant_context(world_a.tenant):
        types = set(
            StockMovement.objects.filter(reference_id=transfer["id"]).values_list("type", flat=True)
        )
        assert types == {"TRANSFER_OUT", "TRANSFER_CANCEL"}
        assert ledger_mismatches() == []


# state reached by these actions → what each action then gets
PATHS = {
    "PENDING": [],
    "IN_TRANSIT": ["ship"],
    "COMPLETED": ["ship", "receive"],
    "CANCELLED": ["cancel"],
}
REFUSED = [
    ("IN_TRANSIT", "ship"),
    ("COMPLETED", "ship"),
    ("CANCELLED", "ship"),
    ("PENDING", "receive"),
    ("COMPLETED", "receive"),
    ("CANCELLED", "receive"),
    ("COMPLETED", "cancel"),
    ("CANCELLED", "cancel"),
]


@pytest.mark.parametrize("state, action", REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_refused_transitions_are_422_and_change_nothing(stocked, world_a, goods, state, action):
    transfer = create(stocked, world_a, goods).json()["data"]
    for step in PATHS[state]:
        assert act(stocked, transfer["id"], step).status_code == 200
    before = ends(world_a, goods)
    with tenant_context(world_a.tenant):
        movements = StockMovement.objects.count()
    response = act(stocked, transfer["id"], action)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_STATE"
    assert ends(world_a, goods) == before
    with tenant_context(world_a.tenant):
        assert StockMovement.objects.count() == movements
        assert Transfer.objects.get(pk=transfer["id"]).status == state


def test_shipping_more_than_the_source_holds_is_422(stocked, world_a, goods):
    transfer = create(stocked, world_a, goods, water="11").json()["data"]
    response = act(stocked, transfer["id"], "ship")
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["details"][0]["field"], error["details"][0]["available"]) == (
        "INSUFFICIENT_STOCK",
        "items.0",
        "10",
    )
    assert ends(world_a, goods) == (10, 4, None, None)
    with tenant_context(world_a.tenant):
        assert Transfer.objects.get(pk=transfer["id"]).status == "PENDING"


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda w, b: b.update(toStoreId=b["fromStoreId"]), "toStoreId"),
        (lambda w, b: b["items"][0].update(quantity="0"), "items.0.quantity"),
        (lambda w, b: b.update(toStoreId="00000000-0000-0000-0000-000000000001"), "toStoreId"),
    ],
    ids=["same-store", "zero", "unknown-store"],
)
def test_bad_transfers_are_400(stocked, world_a, goods, change, field):
    body = {
        "fromStoreId": str(world_a.store.pk),
        "toStoreId": str(world_a.warehouse.pk),
        "items": [{"productId": str(goods.water.pk), "quantity": "1"}],
    }
    change(world_a, body)
    response = stocked.post(TRANSFERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
    with tenant_context(world_a.tenant):
        assert not Transfer.objects.exists()


def test_numbers_follow_each_other(stocked, world_a, goods):
    numbers = [create(stocked, world_a, goods).json()["data"]["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]


def test_a_cashier_sees_only_transfers_of_their_stores(api, stocked, world_a, goods):
    mine = create(stocked, world_a, goods).json()["data"]
    other = create(stocked, world_a, goods, to=world_a.other_store).json()["data"]
    with tenant_context(world_a.tenant):  # one between two stores the cashier does not work in
        Transfer.objects.filter(pk=other["id"]).update(from_store=world_a.warehouse)
    cashier = api(world_a.cashier)
    listed = cashier.get(TRANSFERS)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["data"]] == [mine["id"]]
    assert cashier.get(f"{TRANSFERS}/{mine['id']}").status_code == 200
    assert cashier.get(f"{TRANSFERS}/{other['id']}").status_code == 404
    assert cashier.post(f"{TRANSFERS}/{mine['id']}/ship", {}, format="json").status_code == 403
    assert ends(world_a, goods) == (10, 4, None, None)


def test_the_transfer_list_filters_and_keeps_its_query_count(
    stocked, world_a, goods, django_assert_max_num_queries
):
    for _ in range(2):
        create(stocked, world_a, goods)
    shipped = create(stocked, world_a, goods).json()["data"]
    assert act(stocked, shipped["id"], "ship").status_code == 200
    in_transit = stocked.get(TRANSFERS, {"status": "IN_TRANSIT"})
    assert [t["number"] for t in in_transit.json()["data"]] == [3]
    to_w1 = stocked.get(TRANSFERS, {"storeId": str(world_a.warehouse.pk)})
    assert [t["number"] for t in to_w1.json()["data"]] == [3, 2, 1]
    with django_assert_max_num_queries(4):  # auth, count, page, items
        assert stocked.get(TRANSFERS).status_code == 200
