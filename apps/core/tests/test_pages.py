"""The landing page at `/`: name, version and the links a newcomer needs (each of them answers),
HTML by default and JSON when asked for; any unknown path is a JSON 404, never Django's DEBUG page
listing the routes."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from apps.core.views import PAGE_POLICY

pytestmark = pytest.mark.django_db

LINKS = {
    "docs": "/api/docs",
    "redoc": "/api/redoc",
    "schema": "/api/schema",
    "console": "/admin/",
    "health": "/health",
    "healthLive": "/health/live",
    "healthReady": "/health/ready",
}


def test_the_landing_page_names_the_server_and_links_the_docs_console_and_health():
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == PAGE_POLICY
    html = response.content.decode()
    assert "<title>MIPOS 1.0.0</title>" in html
    for path in LINKS.values():
        assert f'href="{path}"' in html, path
    assert "<script" not in html and "style=" not in html  # nothing the policy would refuse


@pytest.mark.parametrize("accept", ["application/json", "application/json, text/html;q=0.5"])
def test_the_landing_page_is_json_when_the_client_prefers_it(accept):
    response = Client().get("/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response.json() == {"name": "MIPOS", "version": "1.0.0", "links": LINKS}


@pytest.mark.parametrize("accept", ["*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_a_browser_or_curl_gets_the_page(accept):
    response = Client().get("/", HTTP_ACCEPT=accept)
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_every_link_of_the_landing_page_answers():
    client = Client()
    answers = {name: client.get(path).status_code for name, path in LINKS.items()}
    assert answers == {name: 200 for name in LINKS} | {"console": 302}  # the console's sign-in
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_the_landing_page_only_reads():
    assert Client().post("/").status_code == 405


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", ["/nowhere", "/admin", "/health/", "/static/nothing.css"])
def test_an_unknown_path_is_a_json_404_even_in_debug(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": "NOT_FOUND", "message": f"No route for GET {path}.", "details": []},
    }
