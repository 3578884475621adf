from __future__ import annotations

import functools
import logging
import sys

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from apps.core import metrics, outage
from apps.core.errors import ErrorCode
from apps.core.exceptions import database_unavailable_json, error_body
from apps.core.security import CSP_HEADER, csp_policy

logger = logging.getLogger("mipos.health")


def health_live(request):
    """Liveness: the process answers (nothing else is asked: a database outage must not get
    every worker restarted)."""
    return JsonResponse({"status": "ok"})


@functools.cache
def _migrations_on_disk() -> tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]:
    """Every migration the code has (key, and what a squashed one replaces). Files on disk do not
    change under a running process: read once."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return tuple(
        (key, tuple(getattr(migration, "replaces", None) or ()))
        for key, migration in graph.nodes.items()
    )


def database_readiness() -> str:
    """ "up", "down" or "migrations pending" (the public schema's). Reads the applied migrations
    itself: Django's recorder first lists every table of the database to find its own, which
    takes ~0.1 s once a thousand companies' schemas are in the catalogue."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return "migrations pending"
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = set(cursor.fetchall())
    except DatabaseError:
        return "down"
    pending = [
        key
        for key, replaces in _migrations_on_disk()
        if key not in applied and not (replaces and all(old in applied for old in replaces))
    ]
    return "migrations pending" if pending else "up"


def redis_readiness() -> str | None:
    """None when no Redis is configured."""
    if not settings.REDIS_URL:
        return None
    cache = caches["platform"]
    if hasattr(cache, "probe"):  # apps.core.cache: asks Redis past the breaker
        return "up" if cache.probe() else "down"
    try:
        cache.get("health-probe")
    except Exception:  # any client error means: not ready
        return "down"
    return "up"


def health(request):
    """Readiness (also `/health/ready`): 200 when the database answers with every migration
    applied and Redis (when configured) answers; 503 naming what is not ready otherwise."""
    checks = {"database": database_readiness()}
    redis = redis_readiness()
    if redis is not None:
        checks["redis"] = redis
    ready = all(value == "up" for value in checks.values())
    if not ready:
        logger.warning("health check: not ready %s", checks)
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


def metrics_view(request):
    """Prometheus exposition; only for `METRICS_TOKEN` or an allowed address (403 otherwise)."""
    if not metrics.scrape_allowed(request):
        return JsonResponse(
            error_body(
                ErrorCode.FORBIDDEN, "Metrics need the metrics token or an allowed address."
            ),
            status=403,
        )
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@csrf_exempt  # a JSON 404 for any method; CSRF would turn unknown POSTs into HTML 403s
def api_not_found(request, *args, **kwargs):
    return JsonResponse(
        error_body(ErrorCode.NOT_FOUND, f"No route for {request.method} {request.path}."),
        status=404,
    )


def server_error(request, *args, **kwargs):
    """Django's last resort (an error outside the API's views, e.g. in a middleware); called
    while the exception is being handled, so a database outage still answers 503."""
    error = sys.exc_info()[1]
    if outage.database_unavailable(error):
        outage.database_failed(error)
        return database_unavailable_json()
    return JsonResponse(
        error_body(ErrorCode.INTERNAL_ERROR, "An unexpected error occurred."), status=500
    )


# --- the two pages a person opens in a browser: the landing page and the password-reset page ----
# Each sends its own Content-Security-Policy: files from 'self' only, no inline script or style
# (the reset page's script is static/site/reset-password.js), fetch() to this origin only.
PAGE_POLICY = csp_policy(
    {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
)
LANDING_LINKS = {  # mipos/urls.py
    "docs": "/api/docs",
    "redoc": "/api/redoc",
    "schema": "/api/schema",
    "console": "/admin/",
    "health": "/health",
    "healthLive": "/health/live",
    "healthReady": "/health/ready",
}


def _page(request, template: str, context: dict) -> HttpResponse:
    response = render(request, template, context)
    response[CSP_HEADER] = PAGE_POLICY
    return response


@require_safe
def landing(request):
    """`/`: what this server is and where to go (HTML; JSON when the client asks for it)."""
    about = {
        "name": "MIPOS",
        "version": settings.SPECTACULAR_SETTINGS["VERSION"],
        "links": LANDING_LINKS,
    }
    # HTML unless the Accept header prefers JSON (a missing header or */* gets the page)
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        return JsonResponse(about)
    return _page(request, "site/landing.html", about)


@require_safe
def reset_password_page(request):
    """`/reset-password?token=…`: the page the reset e-mail links to (settings.PUBLIC_URL). A form
    (the new password twice) whose script posts to `POST /api/auth/reset-password` and shows the
    answer. The token stays out of caches and of the Referer of anything the page loads."""
    token = request.GET.get("token", "")[:128]
    response = _page(request, "site/reset_password.html", {"token": token})
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
