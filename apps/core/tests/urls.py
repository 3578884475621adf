"""URLs that exist only in tests: a write endpoint that uses the Idempotency-Key mechanism
(no money-moving endpoint exists yet) and an endpoint that fails unexpectedly."""

from __future__ import annotations

import threading

from django.db import connection
from django.urls import include, path
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import audit_record
from apps.core.idempotency import idempotent
from apps.core.roles import AUTHENTICATED
from mipos.urls import urlpatterns as app_urlpatterns

GATE_TIMEOUT_SECONDS = 30


class Gate:
    """Holds the first request that reaches the view (after its write, inside its transaction)
    until the test opens the gate; later requests pass straight through. `backend_pid` is the
    held request's PostgreSQL connection."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.backend_pid: int | None = None
        self._lock = threading.Lock()
        self._taken = False

    def pass_through(self) -> None:
        with self._lock:
            first, self._taken = not self._taken, True
        if not first:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend_pid = cursor.fetchone()[0]
        self.entered.set()
        if not self.opened.wait(GATE_TIMEOUT_SECONDS):
            raise TimeoutError("the test never opened the gate")


# A test registers a gate under a name and sends that name as the body's "gate".
GATES: dict[str, Gate] = {}


class IdempotentWriteView(APIView):
    required_permission = AUTHENTICATED

    @idempotent
    def post(self, request):
        entry = audit_record(
            action="test.write", entity_type="test", entity_id="", actor=request.user
        )
        if request.data.get("gate"):
            GATES[request.data["gate"]].pass_through()
        if request.data.get("fail"):
            raise ValueError("boom: secret internals")
        return Response(
            {"entry_id": str(entry.pk), "amount": request.data.get("amount")},
            status=status.HTTP_201_CREATED,
        )


class ExplodingView(APIView):
    required_permission = AUTHENTICATED

    def get(self, request):
        raise RuntimeError("database password is hunter2")


urlpatterns = [
    path("api/v1/_test/idempotent", IdempotentWriteView.as_view()),
    path("api/v1/_test/explode", ExplodingView.as_view()),
    path("", include(app_urlpatterns)),
]
