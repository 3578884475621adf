"""A product's images: one added (stored by the media app) at the next position."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.audit.services import audit_record
from apps.catalog.events import product_changed
from apps.catalog.models import Product, ProductImage
from apps.core.db import row_lock
from apps.media.services import image_store


def product_image_add(*, actor, product_id: UUID, data: bytes) -> ProductImage:
    with transaction.atomic():
        product = row_lock(Product.objects.alive(), product_id)  # positions are per product
        asset = image_store(data=data)
        position = ProductImage.objects.filter(product=product).count()
        image = ProductImage.objects.create(product=product, image_id=asset.pk, position=position)
        audit_record(
            action="product.image.add",
            entity_type="product",
            entity_id=product.pk,
            actor=actor,
            after={
                "image_id": asset.pk,
                "content_type": asset.content_type,
                "byte_size": asset.byte_size,
            },
        )
        product_changed("product.updated", product)
    return image
