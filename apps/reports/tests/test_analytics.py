"""Market basket on hand-made baskets: support, confidence and lift equal the values computed by
hand; voided sales, other stores and excluded products leave the baskets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.sales.models import Sale
from tests.factories.sales import sale_make

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/analytics/market-basket"


@pytest.fixture
def baskets(world_a):
    """In S1: {A,B} {A,B,C} {A,C} {B,C} {A,B,BAG}; a voided {A,C}; {A,C} in S2."""
    with tenant_context(world_a.tenant):
        made = {
            key: Product.objects.create(name=f"Item {key}", sku=f"MB-{key}", status="ACTIVE")
            for key in ("A", "B", "C", "BAG")
        }
        sequence = 700_000

        def basket(*keys, store=None, voided=False):
            nonlocal sequence
            sequence += 1
            first, *rest = keys
            sale = sale_make(
                store=store or world_a.store,
                cashier_id=world_a.cashier.pk,
                product=made[first],
                sequence=sequence,
                also=[made[key] for key in rest],
            )
            if voided:
                Sale.objects.filter(pk=sale.pk).update(status="VOIDED")

        for keys in (("A", "B"), ("A", "B", "C"), ("A", "C"), ("B", "C"), ("A", "B", "BAG")):
            basket(*keys)
        basket("A", "C", voided=True)
        basket("A", "C", store=world_a.other_store)
    return made


def rules(response) -> dict[tuple[str, str], tuple]:
    assert response.status_code == 200, response.content[:300]
    return {
        (r["antecedent"]["name"], r["consequent"]["name"]): (
            r["baskets"],
            r["support"],
            r["confidence"],
            r["lift"],
        )
        for r in response.json()["data"]["rules"]
    }


def test_support_confidence_and_lift_by_hand(api, world_a, baskets):
    client = api(world_a.manager)
    query = {
        "storeId": str(world_a.store.pk),
        "minSupport": "0",
        "minConfidence": "0",
        "excludeProductIds": str(baskets["BAG"].pk),
    }
    response = client.get(URL, query)
    assert response.json()["data"]["baskets"] == 5
    # 5 baskets; A in 4, B in 4, C in 3; AB in 3, AC in 2, BC in 2
    assert rules(response) == {
        ("Item A", "Item B"): (3, "0.6000", "0.7500", "0.9375"),  # 0.75 / (4/5)
        ("Item B", "Item A"): (3, "0.6000", "0.7500", "0.9375"),
        ("Item A", "Item C"): (2, "0.4000", "0.5000", "0.8333"),  # 0.5 / (3/5)
        ("Item C", "Item A"): (2, "0.4000", "0.6667", "0.8333"),  # (2/3) / (4/5)
        ("Item B", "Item C"): (2, "0.4000", "0.5000", "0.8333"),
        ("Item C", "Item B"): (2, "0.4000", "0.6667", "0.8333"),
    }
    ordered = [
        (r["antecedent"]["name"], r["consequent"]["name"]) for r in response.json()["data"]["rules"]
    ]
    assert ordered[:2] == [("Item A", "Item B"), ("Item B", "Item A")]  # highest lift first


def test_thresholds_limit_and_exclusions(api, world_a, baskets):
    client = api(world_a.admin)
    store = {"storeId": str(world_a.store.pk)}
    assert set(rules(client.get(URL, {**store, "minSupport": "0.5", "minConfidence": "0"}))) == {
        ("Item A", "Item B"),
        ("Item B", "Item A"),
    }
    strict = rules(client.get(URL, {**store, "minSupport": "0", "minConfidence": "0.6"}))
    assert set(strict) == {
        ("Item A", "Item B"),
        ("Item B", "Item A"),
        ("Item C", "Item A"),
        ("Item C", "Item B"),
        ("Item BAG", "Item A"),
        ("Item BAG", "Item B"),
    }
    with_bag = rules(client.get(URL, {**store, "minSupport": "0", "minConfidence": "0"}))
    assert with_bag[("Item BAG", "Item A")] == (1, "0.2000", "1.0000", "1.2500")  # 1 / (4/5)
    assert (
        len(
            client.get(
                URL, {**store, "minSupport": "0", "minConfidence": "0", "limit": "3"}
            ).json()["data"]["rules"]
        )
        == 3
    )
    everywhere = client.get(URL, {"minSupport": "0", "minConfidence": "0"}).json()["data"]
    assert everywhere["baskets"] == 6  # S2's basket joins; the voided one never does


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"minSupport": "1.5"}, "minSupport"),
        ({"minConfidence": "-0.1"}, "minConfidence"),
        ({"limit": "0"}, "limit"),
        ({"excludeProductIds": "abc"}, "excludeProductIds"),
    ],
)
def test_bad_options_are_400(api, world_a, query, field):
    response = api(world_a.admin).get(URL, query)
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_the_defaults_apply(api, world_a, baskets):
    """minSupport 0.01 and minConfidence 0.1 by default: every rule of the store qualifies."""
    data = api(world_a.admin).get(URL, {"storeId": str(world_a.store.pk)}).json()["data"]
    assert (data["baskets"], len(data["rules"])) == (5, 10)


def test_reorder_suggestions(api, world_a):
    from datetime import timedelta

    from django.utils import timezone

    from apps.inventory.models import StockLevel
    from apps.purchasing.models import PurchaseOrder, PurchaseOrderItem, Supplier

    with tenant_context(world_a.tenant):
        fast = Product.objects.create(name="Fast seller", sku="RO-FAST", status="ACTIVE")
        stocked = Product.objects.create(name="Well stocked", sku="RO-FULL", status="ACTIVE")
        now = timezone.now()
        for sequence, product, quantity, voided in (
            (710_001, fast, "20", False),
            (710_002, fast, "10", False),
            (710_003, fast, "50", True),
            (710_004, stocked, "30", False),
        ):
            sale = sale_make(
                store=world_a.store,
                cashier_id=world_a.cashier.pk,
                product=product,
                sequence=sequence,
                quantity=quantity,
            )
            Sale.objects.filter(pk=sale.pk).update(
                created_at=now - timedelta(days=5), status="VOIDED" if voided else "COMPLETED"
            )
        StockLevel.objects.create(store=world_a.store, product=fast, quantity=D("5"))
        StockLevel.objects.create(store=world_a.store, product=stocked, quantity=D("100"))
        supplier = Supplier.objects.create(name="RO supplier")
        order = PurchaseOrder.objects.create(
            number="PO-RO-1",
            sequence=910_001,
            supplier=supplier,
            store=world_a.store,
            total=D("0.00"),
        )
        PurchaseOrderItem.objects.create(
            order=order,
            position=0,
            product=fast,
            quantity=D("3"),
            received_quantity=D("1"),
            unit_cost=D("1.0000"),
            line_total=D("3.00"),
        )
    response = api(world_a.manager).get(
        "/api/v1/analytics/reorder-suggestions", {"storeId": str(world_a.store.pk)}
    )
    assert response.status_code == 200, response.content[:300]
    data = response.json()["data"]
    # 30 sold in 30 days (the voided 50 not): 1 a day x (7 + 3) = 10 needed; 5 on hand + 2 on order
    assert data["suggestions"] == [
        {
            "storeId": str(world_a.store.pk),
            "productId": str(fast.pk),
            "variantId": None,
            "name": "Fast seller",
            "sold": "30.000",
            "perDay": "1.000",
            "needed": "10.000",
            "onHand": "5.000",
            "onOrder": "2.000",
            "suggested": 3,
        }
    ]
    longer = (
        api(world_a.manager)
        .get(
            "/api/v1/analytics/reorder-suggestions",
            {"storeId": str(world_a.store.pk), "leadTimeDays": "27"},
        )
        .json()["data"]["suggestions"]
    )
    assert [(s["name"], s["suggested"]) for s in longer] == [("Fast seller", 23)]
    bad = api(world_a.manager).get("/api/v1/analytics/reorder-suggestions", {"days": "0"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "days"
