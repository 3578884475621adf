"""The negotiation fast path answers JSON for the plain Accept headers and leaves every other
case to DRF: an unacceptable type is still 406, a JSON-compatible list still gets JSON."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (None, 200),
        ("*/*", 200),
        ("application/json", 200),
        ("text/html, application/json;q=0.9", 200),
        ("application/*", 200),
        ("text/html", 406),
        ("image/png", 406),
    ],
)
def test_accept_headers(api, world_a, accept, status):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api(world_a.cashier).get("/api/auth/me", **headers)
    assert response.status_code == status, response.content
    if status == 200:
        assert response["Content-Type"] == "application/json"
        assert response.json()["success"] is True


def test_plain_accepts_skip_drf_s_header_parsing(api, world_a, monkeypatch):
    from rest_framework.negotiation import DefaultContentNegotiation

    def parsing(*args, **kwargs):
        raise AssertionError("the fast path should have answered")

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", parsing)
    for accept in ("", "*/*", "application/json"):
        response = api(world_a.cashier).get("/api/auth/me", HTTP_ACCEPT=accept)
        assert response.status_code == 200, (accept, response.content)
