"""URLs that exist only in tests: a write endpoint that uses the Idempotency-Key mechanism
(no money-moving endpoint exists yet) and an endpoint that fails unexpectedly."""

import time

from django.urls import include, path
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import audit_record
from apps.core.idempotency import idempotent
from apps.core.roles import AUTHENTICATED
from mipos.urls import urlpatterns as app_urlpatterns


class IdempotentWriteView(APIView):
    required_permission = AUTHENTICATED

    @idempotent
    def post(self, request):
        entry = audit_record(
            action="test.write", entity_type="test", entity_id="", actor=request.user
        )
        time.sleep(float(request.data.get("sleep", 0)))
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
