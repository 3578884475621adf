"""Market basket on hand-made baskets: support, confidence and lift equal the values computed by
hand; voided sales, other stores and excluded products leave the baskets."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.sales.models import Sale, SaleItem
from apps.sales.testing import sale_make

pytestmark = pytest.mark.django_db

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
            )
            template = SaleItem.objects.get(sale=sale)
            for position, key in enumerate(rest, start=1):
                template.pk, template.position, template.product = None, position, made[key]
                template.save(force_insert=True)
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
