"""The benchmark's baseline: a bare DRF view running the very SELECT the barcode lookup runs
(apps.catalog.selectors.PRODUCT_BY_BARCODE) with no authentication, permission, throttle,
envelope or serializer, mounted beside the API. Its schema is `BENCH_SCHEMA["name"]`, set by an
in-process benchmark or, for a server started by `bench/serving.py`, from `BENCH_SCHEMA`."""

import os

from django.db import connection
from django.urls import include, path
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.selectors import PRODUCT_BY_BARCODE

BENCH_SCHEMA = {"name": os.environ.get("BENCH_SCHEMA", "public")}


class BareBarcodeView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]

    def get(self, request, barcode):
        connection.set_schema(BENCH_SCHEMA["name"])
        with connection.cursor() as cursor:
            cursor.execute(PRODUCT_BY_BARCODE, [barcode])
            row = cursor.fetchone()
        return Response({"id": str(row[0]), "name": row[2], "price": str(row[5])})


urlpatterns = [
    path("bare/barcode/<str:barcode>", BareBarcodeView.as_view()),
    path("", include("mipos.urls")),
]
