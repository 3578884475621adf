"""A sale written straight to the database, for the generated suites' fixtures (they build
their objects with the ORM so they do not depend on the services' signatures)."""

from __future__ import annotations

from decimal import Decimal

from apps.sales.models import Payment, Sale, SaleItem


def sale_make(*, store, cashier_id, product, sequence: int, quantity: str = "2") -> Sale:
    """A completed cash sale of `quantity` x `product` at 1.00, untaxed, in `store`."""
    amount = Decimal(quantity)
    sale = Sale.objects.create(
        number=f"INV-{store.code}-{sequence:06d}", sequence=sequence, store=store,
        cashier_id=cashier_id, subtotal=amount, discount_total=0, tax_total=0,
        rounding_adjustment=0, total=amount, paid_total=amount, change_due=0, due_amount=0,
    )  # fmt: skip
    SaleItem.objects.create(
        sale=sale, position=0, product=product, name=product.name, sku=product.sku,
        quantity=amount, unit_price=Decimal("1.00"), line_discount=0, group_discount=0,
        cart_discount=0, points_discount=0, discount_amount=0, tax_rate=0, tax_amount=0,
        line_total=amount, unit_cost=Decimal("0.40"), track_stock=product.track_stock,
    )  # fmt: skip
    Payment.objects.create(
        kind="SALE", method="CASH", amount=amount, store=store, sale=sale, created_by=cashier_id
    )
    return sale
