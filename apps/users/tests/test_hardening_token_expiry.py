"""Access-token expiry is judged against the current time on every request, even for a token this
process has already verified and cached (issue 7, defect 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.core.middleware import _VERIFIED_TOKENS
from apps.users.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_cached_token_is_refused_once_expired(client, world_a):
    with time_machine.travel(START, tick=False) as traveller:
        access = token_pair_issue(user=world_a.cashier).access
        auth = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
        first = client.get(ME, **auth)
        assert first.status_code == 200
        assert first.json()["data"]["email"] == world_a.cashier.email
        assert access in _VERIFIED_TOKENS  # verified once, cached for the next request

        traveller.shift(timedelta(minutes=14, seconds=59))
        assert client.get(ME, **auth).status_code == 200  # still inside its 15 minutes

        traveller.shift(timedelta(seconds=2))  # 15 min 1 s after issue: past `exp`
        response = client.get(ME, **auth)
        assert response.status_code == 401
        assert response.json()["success"] is False
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert access not in _VERIFIED_TOKENS  # dropped, not kept for another try


def test_an_expired_token_never_seen_before_is_refused(client, world_a):
    with time_machine.travel(START, tick=False) as traveller:
        access = token_pair_issue(user=world_a.cashier).access
        traveller.shift(timedelta(minutes=15, seconds=1))
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")
        assert response.status_code == 401
        assert access not in _VERIFIED_TOKENS
