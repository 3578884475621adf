from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from apps.core.roles import PUBLIC
from apps.media.selectors import image_get


class PublicImageView(APIView):
    """Serves an uploaded image by id, without a token, cacheable for a year (ids are immutable)."""

    authentication_classes: list = []
    required_permission = PUBLIC
    throttle_classes: list = []

    @extend_schema(
        tags=["images"],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image bytes")
        },
    )
    def get(self, request, image_id):
        image = image_get(image_id=image_id)
        etag = f'"{image.sha256}"'
        if request.headers.get("If-None-Match") == etag:
            return HttpResponseNotModified(headers={"ETag": etag})
        response = HttpResponse(bytes(image.data), content_type=image.content_type)
        response["Cache-Control"] = "public, max-age=31536000, immutable"
        response["ETag"] = etag
        response["Content-Length"] = str(image.byte_size)
        response["X-Content-Type-Options"] = "nosniff"
        return response
