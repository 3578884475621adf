"""Image upload: the content is verified (decoded by Pillow), never trusted from the name or the
declared type; only JPEG, PNG and WebP under the size cap are kept."""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.db import connection
from PIL import Image, UnidentifiedImageError

from apps.core.errors import ValidationFailed
from apps.media.models import ImageAsset

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs


def image_store(*, data: bytes, field: str = "file") -> ImageAsset:
    """Verifies and stores one image for the current tenant, in the caller's transaction."""
    limit = settings.IMAGE_MAX_BYTES
    if not data:
        raise ValidationFailed.for_field(field, "The file is empty.")
    if len(data) > limit:
        raise ValidationFailed.for_field(field, f"The file is larger than {limit // 1024} KiB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed.for_field(field, "The image has too many pixels.")
            probe.verify()  # checks the whole stream, not just the header
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed.for_field(field, "Not a valid JPEG, PNG or WebP image.") from None
    if image_format not in ALLOWED_FORMATS:
        raise ValidationFailed.for_field(field, "Only JPEG, PNG and WebP images are accepted.")
    return ImageAsset.objects.create(
        tenant_id=connection.tenant.pk,
        content_type=ALLOWED_FORMATS[image_format],
        byte_size=len(data),
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
