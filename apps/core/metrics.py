"""Prometheus metrics: requests (count and latency per route template, method and status),
database queries per request, checkouts, stock movements and open websockets.

Under gunicorn each worker counts for itself; with `PROMETHEUS_MULTIPROC_DIR` set, the workers
write their figures there and `/metrics` adds them up (prometheus_client's multiprocess mode;
deploy/gunicorn.conf.py empties the directory at start and marks exited workers)."""

from __future__ import annotations

import ipaddress
import os
import secrets

from django.conf import settings
from django.db import transaction
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUESTS = Counter(
    "mipos_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "mipos_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
QUERIES = Histogram(
    "mipos_db_queries_per_request", "Database queries an HTTP request ran", ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)  # fmt: skip
CHECKOUTS = Counter("mipos_checkouts_total", "Sales completed at checkout")
STOCK_MOVEMENTS = Counter(
    "mipos_stock_movements_total", "Stock movements written (ledger rows)", ["type"]
)
# log lines the dev-tools log store lost: its queue was full, or a batch could not be written
LOG_LINES_DROPPED = Counter("mipos_log_lines_dropped_total", "Log lines dropped: queue full")
LOG_LINES_FAILED = Counter("mipos_log_lines_failed_total", "Log lines lost: batch not written")
EVENTS_DROPPED = Counter("mipos_events_dropped_total", "Events not published: Redis unreachable")
WEBSOCKETS = Gauge(
    "mipos_websocket_connections", "Open websocket connections", multiprocess_mode="livesum"
)


def route_of(request) -> str:
    """The URL pattern that answered (`api/v1/products/<uuid:id>`), never the raw path: one
    series per route, whatever ids are in the paths."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


def request_observed(request, status: int, seconds: float, queries: int) -> None:
    route = route_of(request)
    REQUESTS.labels(request.method, route, str(status)).inc()
    LATENCY.labels(request.method, route).observe(seconds)
    QUERIES.labels(route).observe(queries)


def checkout_completed() -> None:
    transaction.on_commit(CHECKOUTS.inc)


def stock_moved(movement_type: str, count: int) -> None:
    transaction.on_commit(lambda: STOCK_MOVEMENTS.labels(movement_type).inc(count))


def scrape_allowed(request) -> bool:
    """`METRICS_TOKEN` as a bearer token, or a client address in `METRICS_ALLOWED_IPS`."""
    token = settings.METRICS_TOKEN
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    # the scheme is case-insensitive (RFC 9110 11.1): `bearer …` as `Bearer …`
    if (
        token
        and len(parts) == 2
        and parts[0].lower() == "bearer"
        and secrets.compare_digest(parts[1].encode(), token.encode())
    ):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_IPS)


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
