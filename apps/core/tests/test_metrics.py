"""/metrics (Prometheus text format, parsed with prometheus_client's own parser) and the
liveness/readiness probes."""

from __future__ import annotations

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def scraped(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


ME = (
    "mipos_http_requests_total",
    (("method", "GET"), ("route", "api/auth/me"), ("status", "200")),
)


def test_a_request_is_counted_under_its_route_template(api, client, world_a):
    before = scraped(client).get(ME, 0.0)
    assert api(world_a.cashier).get("/api/auth/me").status_code == 200
    after = scraped(client)
    assert after[ME] == before + 1
    latency = (
        "mipos_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "api/auth/me")),
    )
    assert after[latency] >= 1
    queries = ("mipos_db_queries_per_request_count", (("route", "api/auth/me"),))
    assert after[queries] >= 1


def test_an_unknown_path_is_one_series_not_one_per_path(client):
    client.get("/api/v1/no-such-thing/123")
    client.get("/api/v1/no-such-thing/456")
    series = [key for key in scraped(client) if key[0] == "mipos_http_requests_total"]
    assert not any("no-such-thing" in str(labels) for _name, labels in series)


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
def test_metrics_need_the_token_or_an_allowed_address(client):
    refused = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    wrong = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    allowed = scraped(
        client, REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789"
    )
    assert any(name == "mipos_checkouts_total" for name, _labels in allowed)


def test_liveness_and_readiness(client):
    live = client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "up"})


def test_readiness_is_503_while_a_migration_is_not_applied(client):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    # the app's latest migration (an earlier one unapplied under a later applied one is an
    # inconsistent history, not a pending migration); the test's transaction is rolled back
    (latest,) = [n for a, n in MigrationLoader(connection).graph.leaf_nodes() if a == "tenants"]
    assert MigrationRecorder.Migration.objects.filter(app="tenants", name=latest).delete()[0] == 1
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "unavailable", "database": "migrations pending"},
    )
    assert client.get("/health/live").status_code == 200  # the process itself is alive


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_metrics_token_scheme_is_case_insensitive(client, scheme):
    """Issue 26, point 11: `Authorization: bearer <METRICS_TOKEN>` scrapes like `Bearer`."""
    response = client.get(
        "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"{scheme} scrape-token-0123456789"
    )
    assert response.status_code == 200
    assert b"mipos_checkouts_total" in response.content


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
@pytest.mark.parametrize(
    "header",
    ["bearer scrape-token-012345678", "Basic scrape-token-0123456789", "scrape-token-0123456789"],
)
def test_the_metrics_token_must_still_match(client, header):
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=header)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
