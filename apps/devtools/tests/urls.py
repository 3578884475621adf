"""A URL that exists only in the dev-tools tests: a write that fails unexpectedly, quoting its
request body (password included) in the exception message, as careless code does."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.views import APIView

from apps.core.roles import AUTHENTICATED
from mipos.urls import urlpatterns as app_urlpatterns


class CarelessWriteView(APIView):
    required_permission = AUTHENTICATED

    def post(self, request):
        raise RuntimeError(f"could not save {request.data}")


urlpatterns = [
    path("api/v1/_test/devtools/careless", CarelessWriteView.as_view()),
    path("", include(app_urlpatterns)),
]
