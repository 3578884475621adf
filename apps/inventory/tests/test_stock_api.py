"""Adjust, set and thresholds through the API: exact levels, one movement per change, and
refusals that change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.inventory.models import StockMovement
from apps.inventory.tests.conftest import ledger_mismatches, level_of, movements_of
from apps.tenants.models import TenantSettings

pytestmark = pytest.mark.django_db

ADJUST = "/api/v1/inventory/stock/adjust"
SET = "/api/v1/inventory/stock/set"


def adjust(client, world, items, reason="FOUND", **extra):
    body = {"storeId": str(world.store.pk), "reason": reason, "items": items, **extra}
    return client.post(ADJUST, body, format="json")


def item(product, delta=None, variant=None, **fields):
    body = {"productId": str(product.pk), **fields}
    if delta is not None:
        body["delta"] = delta
    if variant is not None:
        body["variantId"] = str(variant.pk)
    return body


def counts(world) -> tuple[int, int]:
    with tenant_context(world.tenant):
        return StockMovement.objects.count(), AuditLog.objects.filter(
            action__startswith="stock."
        ).count()


def test_adjust_moves_several_items_at_once(api, world_a, goods):
    client = api(world_a.manager)
    response = adjust(
        client,
        world_a,
        [
            item(goods.water, "12"),
            item(goods.beans, "2.5"),
            item(world_a.product, "3", world_a.variant),
        ],
        note="Opening stock",
    )
    assert response.status_code == 200, response.json()
    rows = response.json()["data"]["items"]
    assert [(r["productId"], r["variantId"], r["quantity"]) for r in rows] == [
        (str(goods.water.pk), None, "12"),
        (str(goods.beans.pk), None, "2.5"),
        (str(world_a.product.pk), str(world_a.variant.pk), "3"),
    ]
    water = rows[0]
    assert water == {
        "storeId": str(world_a.store.pk),
        "storeName": world_a.store.name,
        "productId": str(goods.water.pk),
        "variantId": None,
        "productName": "Still water 1l",
        "variantName": None,
        "sku": "W-1",
        "quantity": "12",
        "lowStockThreshold": "5",  # the company default
        "isLow": False,
        "unitCost": "0.3000",
        "stockValue": "3.60",
        "updatedAt": water["updatedAt"],
    }
    assert rows[1]["stockValue"] == "31.25"  # 2.5 kg x 12.50
    assert rows[2]["sku"] == "P-100-M"
    assert movements_of(world_a, goods.water) == [("ADJUSTMENT", Decimal("12"), Decimal("12"))]
    with tenant_context(world_a.tenant):
        movement = StockMovement.objects.get(product=goods.water)
        assert (movement.reason, movement.note, movement.user_id) == (
            "FOUND",
            "Opening stock",
            world_a.manager.pk,
        )
        audit = AuditLog.objects.get(action="stock.adjust")
        assert audit.entity_id == str(world_a.store.pk)
        assert len(audit.after["items"]) == 3
        assert ledger_mismatches() == []


def test_going_below_zero_is_refused_for_every_short_item_and_changes_nothing(api, world_a, goods):
    client = api(world_a.admin)
    assert (
        adjust(client, world_a, [item(goods.water, "3"), item(goods.beans, "1")]).status_code == 200
    )
    before = counts(world_a)
    response = adjust(
        client,
        world_a,
        [
            item(goods.water, "-2"),
            item(goods.beans, "-1.5"),
            item(world_a.product, "-1", world_a.variant),
        ],
        reason="DAMAGE",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_STOCK"
    assert [(d["field"], d["available"], d["requested"]) for d in error["details"]] == [
        ("items.1", "1", "1.5"),
        ("items.2", "0", "1"),
    ]
    assert level_of(world_a, goods.water) == Decimal("3")
    assert level_of(world_a, goods.beans) == Decimal("1")
    assert counts(world_a) == before


def test_negative_stock_when_the_company_allows_it(api, world_a, goods):
    with tenant_context(world_a.tenant):
        TenantSettings.objects.filter(tenant=world_a.tenant).update(allow_negative_stock=True)
    response = adjust(api(world_a.admin), world_a, [item(goods.water, "-2")], reason="LOSS")
    assert response.status_code == 200
    assert response.json()["data"]["items"][0]["quantity"] == "-2"
    assert movements_of(world_a, goods.water) == [("ADJUSTMENT", Decimal("-2"), Decimal("-2"))]


@pytest.mark.parametrize(
    "make_items, field, message",
    [
        (lambda w, g: [item(g.water, "1.5")], "items.0.delta", "whole units"),
        (lambda w, g: [item(g.water, "0")], "items.0.delta", "zero"),
        (lambda w, g: [item(g.water, 1)], "items.0.delta", "string"),
        (lambda w, g: [item(g.beans, "0.0001")], "items.0.delta", "3 decimal places"),
        (lambda w, g: [item(w.product, "1")], "items.0.variantId", "has variants"),
        (lambda w, g: [item(g.water, "1", w.variant)], "items.0.variantId", "Unknown variant"),
        (lambda w, g: [item(g.water, "1"), item(g.water, "2")], "items.1", "Same product"),
        (lambda w, g: [], "items", "empty"),
        (lambda w, g: [item(g.water, "1")] * 101, "items", "101"),
    ],
    ids=[
        "fraction",
        "zero",
        "number",
        "places",
        "needs-variant",
        "foreign-variant",
        "duplicate",
        "empty",
        "too-many",
    ],
)
def test_malformed_items_are_400_and_change_nothing(
    api, world_a, goods, make_items, field, message
):
    response = adjust(api(world_a.admin), world_a, make_items(world_a, goods))
    assert response.status_code == 400, response.json()
    details = response.json()["error"]["details"]
    assert details[0]["field"].startswith(field), details
    assert counts(world_a) == (0, 0)
    assert level_of(world_a, goods.water) is None


def test_untracked_products_are_422(api, world_a, goods):
    response = adjust(api(world_a.admin), world_a, [item(goods.water, "1"), item(goods.wrap, "1")])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "STOCK_NOT_TRACKED"
    assert response.json()["error"]["details"][0]["field"] == "items.1"
    assert counts(world_a) == (0, 0)


def test_a_store_of_another_company_is_unknown(api, world_a, world_b, goods):
    response = api(world_a.admin).post(
        ADJUST,
        {"storeId": str(world_b.store.pk), "reason": "FOUND", "items": [item(goods.water, "1")]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "storeId", "message": "Unknown store."}
    ]
    assert counts(world_a) == (0, 0)


def test_set_records_the_difference_and_same_value_writes_nothing(api, world_a, goods):
    client = api(world_a.manager)
    assert adjust(client, world_a, [item(goods.water, "5")]).status_code == 200
    body = {"storeId": str(world_a.store.pk), "note": "Shelf count",
            "items": [item(goods.water, quantity="12")]}  # fmt: skip
    response = client.post(SET, body, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["items"][0]["quantity"] == "12"
    assert movements_of(world_a, goods.water) == [
        ("ADJUSTMENT", Decimal("5"), Decimal("5")),
        ("SET", Decimal("7"), Decimal("12")),
    ]
    before = counts(world_a)
    again = client.post(SET, body, format="json")
    assert again.status_code == 200
    assert counts(world_a) == before  # nothing changed: no movement, no audit row


def test_set_with_a_stale_expected_quantity_is_409_and_changes_nothing(api, world_a, goods):
    client = api(world_a.manager)
    assert (
        adjust(client, world_a, [item(goods.water, "10"), item(goods.beans, "4")]).status_code
        == 200
    )
    before = counts(world_a)
    body = {
        "storeId": str(world_a.store.pk),
        "items": [
            item(goods.beans, quantity="3", expectedQuantity="4"),  # still holds
            item(goods.water, quantity="9", expectedQuantity="11"),  # a sale happened since
        ],
    }
    response = client.post(SET, body, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "STOCK_CHANGED"
    assert [(d["field"], d["available"]) for d in error["details"]] == [("items.1", "10")]
    assert (level_of(world_a, goods.water), level_of(world_a, goods.beans)) == (10, 4)
    assert counts(world_a) == before
    body["items"][1]["expectedQuantity"] = "10"
    assert client.post(SET, body, format="json").status_code == 200
    assert (level_of(world_a, goods.water), level_of(world_a, goods.beans)) == (9, 3)


def test_threshold_creates_the_level_without_a_movement(api, world_a, goods):
    client = api(world_a.admin)
    url = f"/api/v1/inventory/stock/{world_a.store.pk}/{goods.water.pk}/threshold"
    response = client.patch(url, {"threshold": "8"}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["quantity"], data["lowStockThreshold"], data["isLow"]) == ("0", "8", True)
    assert counts(world_a) == (0, 1)  # an audit row, no movement
    assert adjust(client, world_a, [item(goods.water, "9")]).status_code == 200
    reset = client.patch(url, {"threshold": None}, format="json")
    assert (reset.json()["data"]["lowStockThreshold"], reset.json()["data"]["isLow"]) == (
        "5",
        False,
    )


def test_threshold_of_a_variant_and_its_errors(api, world_a, goods):
    client = api(world_a.admin)
    url = f"/api/v1/inventory/stock/{world_a.store.pk}/{world_a.product.pk}/threshold"
    assert client.patch(url, {"threshold": "2"}, format="json").status_code == 400  # no variant
    ok = client.patch(url, {"threshold": "2", "variantId": str(world_a.variant.pk)}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["data"]["variantId"], ok.json()["data"]["lowStockThreshold"]) == (
        str(world_a.variant.pk),
        "2",
    )
    assert (
        client.patch(
            url, {"threshold": "-1", "variantId": str(world_a.variant.pk)}, format="json"
        ).status_code
        == 400
    )


def test_movements_cannot_be_updated_or_deleted(api, world_a, goods):
    assert adjust(api(world_a.admin), world_a, [item(goods.water, "4")]).status_code == 200
    with tenant_context(world_a.tenant):
        movement = StockMovement.objects.get(product=goods.water)
        for statement in (
            "UPDATE inventory_stockmovement SET delta = 40 WHERE id = %s",
            "DELETE FROM inventory_stockmovement WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="immutable"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [movement.pk])
        assert StockMovement.objects.get(pk=movement.pk).delta == Decimal("4")


def test_a_replayed_idempotency_key_moves_stock_once(api, world_a, goods):
    client = api(world_a.admin)
    body = {"storeId": str(world_a.store.pk), "reason": "FOUND", "items": [item(goods.water, "6")]}
    first = client.post(ADJUST, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    second = client.post(ADJUST, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert level_of(world_a, goods.water) == Decimal("6")
    assert movements_of(world_a, goods.water) == [("ADJUSTMENT", Decimal("6"), Decimal("6"))]


def test_an_adjustment_writes_levels_movements_and_its_audit_row_in_one_round_trip(
    api, world_a, goods
):
    """The write path's cost (bench/writes.py): the new quantities, the movements and the audit
    row go to the database as one statement batch, after the one that reads and locks."""
    from django.test.utils import CaptureQueriesContext

    client = api(world_a.manager)
    with CaptureQueriesContext(connection) as queries:
        response = adjust(client, world_a, [item(goods.water, "4"), item(goods.beans, "1")])
    assert response.status_code == 200, response.json()
    writes = [q["sql"] for q in queries if "INSERT INTO" in q["sql"] or "UPDATE " in q["sql"]]
    assert len(writes) == 2  # levels created or locked; then the batch below
    batch = writes[1]
    assert batch.index("UPDATE inventory_stocklevel") < batch.index(
        "INSERT INTO inventory_stockmovement"
    )
    assert '"audit_auditlog"' in batch
    with tenant_context(world_a.tenant):
        audit = AuditLog.objects.get(action="stock.adjust")
        assert [i["delta"] for i in audit.after["items"]] == ["4", "1"]
        assert audit.actor_id == world_a.manager.pk
