"""Sales: a sale written straight to the database, for the generated suites' fixtures (they build
their objects with the ORM so they do not depend on the services' signatures), the pieces of a
checkout or quote request, and a checkout through the API."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from apps.sales.models import Payment, Sale, SaleItem

CHECKOUT = "/api/v1/sales/checkout"


def sale_make(
    *, store, cashier_id, product, sequence: int, quantity: str = "2", also: Sequence = ()
) -> Sale:
    """A completed cash sale of `quantity` x `product` (and of each product in `also`) at 1.00
    each, untaxed, in `store`."""
    products = [product, *also]
    amount = Decimal(quantity)
    total = amount * len(products)
    sale = Sale.objects.create(
        number=f"INV-{store.code}-{sequence:06d}", sequence=sequence, store=store,
        cashier_id=cashier_id, subtotal=total, discount_total=0, tax_total=0,
        rounding_adjustment=0, total=total, paid_total=total, change_due=0, due_amount=0,
        currency="USD",
        product_ids=sorted({p.pk for p in products}),
    )  # fmt: skip
    for position, sold in enumerate(products):
        SaleItem.objects.create(
            sale=sale, sold_at=sale.created_at, store=store, position=position, product=sold,
            name=sold.name, sku=sold.sku, quantity=amount, unit_price=Decimal("1.00"),
            line_discount=0, group_discount=0, cart_discount=0, points_discount=0,
            discount_amount=0, tax_rate=0, tax_amount=0, line_total=amount,
            unit_cost=Decimal("0.40"), track_stock=sold.track_stock,
        )  # fmt: skip
    Payment.objects.create(
        kind="SALE",
        method="CASH",
        amount=total,
        currency="USD",
        store=store,
        sale=sale,
        created_by=cashier_id,
    )
    return sale


def line(product, quantity="1", **extra) -> dict:
    return {"productId": str(product.pk), "quantity": quantity, **extra}


def cash(amount: str) -> dict:
    return {"method": "CASH", "amount": amount}


def percent(value: str) -> dict:
    return {"type": "PERCENT", "value": value}


def cart(world, *items, payments=(), **extra) -> dict:
    """A checkout or quote body at `world`'s store."""
    return {
        "storeId": str(world.store.pk),
        "items": list(items),
        "payments": list(payments),
        **extra,
    }


def checkout(client, world, *items, payments, **extra) -> dict:
    """A sale through the API at `world`'s store (201 expected): the sale's data."""
    response = client.post(
        CHECKOUT,
        {"storeId": str(world.store.pk), "items": list(items), "payments": payments, **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]
