"""The business counters of /metrics: a checkout counts once, and its stock movements by type,
when (and only when) its transaction commits."""

from __future__ import annotations

import pytest

from apps.core.tests.test_metrics import scraped
from tests.factories.sales import CHECKOUT, cash, line

pytestmark = pytest.mark.django_db

CHECKOUTS = ("mipos_checkouts_total", ())
SALE_MOVEMENTS = ("mipos_stock_movements_total", (("type", "SALE"),))


def test_a_checkout_counts_once_with_one_sale_movement_per_stocked_line(
    api, client, world_a, shelf, django_capture_on_commit_callbacks
):
    before = scraped(client)
    body = {
        "storeId": str(world_a.store.pk),
        "items": [line(shelf.water, "2"), line(shelf.beans, "0.5"), line(shelf.wrap)],
        "payments": [cash("14.60")],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api(world_a.manager).post(CHECKOUT, body, format="json")
    assert response.status_code == 201, response.content
    after = scraped(client)
    assert after[CHECKOUTS] == before.get(CHECKOUTS, 0.0) + 1
    # water and beans track stock, the gift wrap does not
    assert after[SALE_MOVEMENTS] == before.get(SALE_MOVEMENTS, 0.0) + 2


def test_a_refused_checkout_counts_nothing(
    api, client, world_a, shelf, django_capture_on_commit_callbacks
):
    before = scraped(client)
    body = {
        "storeId": str(world_a.store.pk),
        "items": [line(shelf.water, "50")],  # 20 on the shelf
        "payments": [cash("40.00")],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api(world_a.manager).post(CHECKOUT, body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "INSUFFICIENT_STOCK")
    after = scraped(client)
    assert after.get(CHECKOUTS, 0.0) == before.get(CHECKOUTS, 0.0)
    assert after.get(SALE_MOVEMENTS, 0.0) == before.get(SALE_MOVEMENTS, 0.0)
