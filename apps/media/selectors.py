from __future__ import annotations

from apps.core.errors import NotFound
from apps.media.models import ImageAsset


def image_get(*, image_id) -> ImageAsset:
    image = ImageAsset.objects.filter(pk=image_id).first()
    if image is None:
        raise NotFound("Image not found.")
    return image
