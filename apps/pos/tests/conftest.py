from __future__ import annotations

from decimal import Decimal

import pytest

from apps.sales.tests.conftest import committed, shelf  # noqa: F401  (shared fixtures)

SHIFTS = "/api/v1/pos/shifts"
D = Decimal


def open_shift(client, world, float_: str = "100.00", **extra) -> dict:
    response = client.post(
        SHIFTS, {"storeId": str(world.store.pk), "openingFloat": float_, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def x_report(client, shift_id) -> dict:
    response = client.get(f"{SHIFTS}/{shift_id}/x-report")
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def cashier_api(api, world_a):
    return api(world_a.cashier)
