"""Catalogue rows, written with the ORM in the current schema (wrap a call in
`tenant_context(world.tenant)`): the unit and the plain products several suites sell, count and
move. Extra keyword arguments are the product's other fields."""

from __future__ import annotations

from decimal import Decimal

from apps.catalog.models import Product, Unit


def kilogram() -> Unit:
    """The unit "Kilogram" (kg), sold in fractions."""
    return Unit.objects.create(name="Kilogram", abbreviation="kg", allows_fraction=True)


def still_water(**fields) -> Product:
    """Still water 1l (W-1): active, whole units, cost 0.30, price 0.80."""
    return Product.objects.create(
        name="Still water 1l",
        sku="W-1",
        status="ACTIVE",
        cost_price=Decimal("0.30"),
        sell_price=Decimal("0.80"),
        **fields,
    )


def coffee_beans(*, unit: Unit, **fields) -> Product:
    """Coffee beans (B-1) sold by `unit` (the kilogram): active, cost 12.50, price 24.00."""
    return Product.objects.create(
        name="Coffee beans",
        sku="B-1",
        status="ACTIVE",
        unit=unit,
        cost_price=Decimal("12.50"),
        sell_price=Decimal("24.00"),
        **fields,
    )


def gift_wrap(**fields) -> Product:
    """Gift wrap (G-1): active, does not track stock."""
    return Product.objects.create(
        name="Gift wrap", sku="G-1", status="ACTIVE", track_stock=False, **fields
    )
