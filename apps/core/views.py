from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.core.errors import ErrorCode
from apps.core.exceptions import error_body

logger = logging.getLogger("mipos.health")


def health(request):
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("health check: database unreachable")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@csrf_exempt  # a JSON 404 for any method; CSRF would turn unknown POSTs into HTML 403s
def api_not_found(request, *args, **kwargs):
    return JsonResponse(
        error_body(ErrorCode.NOT_FOUND, f"No route for {request.method} {request.path}."),
        status=404,
    )


def server_error(request, *args, **kwargs):
    return JsonResponse(
        error_body(ErrorCode.INTERNAL_ERROR, "An unexpected error occurred."), status=500
    )
