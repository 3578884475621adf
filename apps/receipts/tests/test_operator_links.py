"""A signed preview link runs as the user who asked for it, with neither a token nor operator
headers: one asked for by a platform operator acting in the company (X-Act-As-Tenant) would be a
way in without an audited request, so it opens nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.receipts.tests.conftest import checkout
from tests.factories.sales import line

pytestmark = pytest.mark.django_db


def test_a_link_asked_for_by_an_operator_opens_nothing(api, world_a, goods, super_admin):
    cash = [{"method": "CASH", "amount": "5"}]
    sale = checkout(api(world_a.cashier), world_a, line(goods.bread), payments=cash)
    link = api(super_admin).get(
        f"/api/v1/receipts/sale/{sale['id']}/link",
        HTTP_X_ACT_AS_TENANT=str(world_a.tenant.pk),
        HTTP_X_ACT_AS_REASON="Customer asks for a receipt copy",
    )
    assert link.status_code == 200
    url = link.json()["data"]["url"].removeprefix("http://testserver")
    opened = APIClient().get(url)
    assert (opened.status_code, opened.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    # the cashier's own link opens
    own = api(world_a.cashier).get(f"/api/v1/receipts/sale/{sale['id']}/link").json()["data"]
    assert APIClient().get(own["url"].removeprefix("http://testserver")).status_code == 200
