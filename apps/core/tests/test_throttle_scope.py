"""API rate limits are platform-wide: an anonymous client does not get a fresh budget on each
tenant domain, and a forged X-Forwarded-For does not open a new bucket per string."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from apps.core.throttling import AnonThrottle

pytestmark = pytest.mark.django_db

REFRESH = "/api/auth/refresh"
HOSTS = ["localhost", "acme.mipos.localhost", "bravo.mipos.localhost"]


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "3/min"})


def test_anonymous_budget_is_shared_by_every_host(worlds, three_per_minute):
    client = APIClient()
    statuses = [
        client.post(REFRESH, {"refreshToken": "x"}, format="json", HTTP_HOST=HOSTS[i % 3])
        for i in range(4)
    ]
    assert [response.status_code for response in statuses] == [401, 401, 401, 429]


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_forged_forwarded_for_values_share_one_bucket(worlds, three_per_minute):
    client = APIClient()
    statuses = [
        client.post(
            REFRESH,
            {"refreshToken": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"1.2.3.4; drop table {i}",
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
