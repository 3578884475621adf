from apps.catalog.models import Product
from apps.core.events import publish_event


def product_changed(event: str, product: Product) -> None:
    """product.created / product.updated / product.deleted, to the whole company (tills refresh
    their catalogue cache)."""
    publish_event(
        event,
        {
            "id": product.pk,
            "sku": product.sku,
            "name": product.name,
            "status": product.status,
            "sellPrice": product.sell_price,
        },
    )
