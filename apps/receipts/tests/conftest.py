from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.customers.models import Customer
from apps.inventory.services import AdjustItem, stock_adjust
from tests.factories.sales import CHECKOUT, line

LONG_NAME = "Extra virgin olive oil, cold pressed, single estate Douro valley 750ml bottle"


@dataclass
class Goods:
    oil: Product  # 7.99 at 23 %, a very long name
    bread: Product  # 1.25 at 6 %
    wine: Product  # 12.40 at 13 %
    script: Product  # 2.00, named <script>alert(1)</script>
    customer: Customer  # 500 points


@pytest.fixture
def goods(world_a) -> Goods:
    with tenant_context(world_a.tenant):
        made = {}
        for key, name, sku, price, rate in (
            ("oil", LONG_NAME, "R-OIL", "7.99", "23.00"),
            ("bread", "Bread", "R-BREAD", "1.25", "6.00"),
            ("wine", "Red wine", "R-WINE", "12.40", "13.00"),
            ("script", "<script>alert(1)</script>", "R-XSS", "2.00", "23.00"),
        ):
            made[key] = Product.objects.create(
                name=name, sku=sku, status="ACTIVE", sell_price=Decimal(price),
                cost_price=Decimal("1.00"), tax_rate=Decimal(rate),
            )  # fmt: skip
        stock_adjust(
            actor=world_a.admin,
            store_id=world_a.store.pk,
            reason="FOUND",
            items=[AdjustItem(p.pk, None, Decimal("100")) for p in made.values()],
        )
        customer = Customer.objects.create(
            code="C-RCPT1", name="Rita <b>Receipts</b>", loyalty_points=500
        )
    connection.set_schema_to_public()
    return Goods(customer=customer, **made)


@pytest.fixture
def inclusive_sale(api, world_a) -> dict:
    """Issue 25's sale: prices include tax, 2 x 11.47 at 23 % with a 4.29 cart discount, paid by
    card, in USD. It stores subtotal 22.94, discounts 4.29, tax 3.49 (included), total 18.65.
    Made by the admin (a cashier's discount limit is another matter)."""
    from tests.factories.tenants import company

    company(world_a, prices_include_tax=True, currency="USD", cash_rounding="0.00")
    with tenant_context(world_a.tenant):
        tea = Product.objects.create(
            name="Green tea 500g", sku="R-TEA", status="ACTIVE", sell_price=Decimal("11.47"),
            cost_price=Decimal("4.00"), tax_rate=Decimal("23.00"),
        )  # fmt: skip
        stock_adjust(
            actor=world_a.admin, store_id=world_a.store.pk, reason="FOUND",
            items=[AdjustItem(tea.pk, None, Decimal("10"))],
        )  # fmt: skip
    connection.set_schema_to_public()
    return checkout(
        api(world_a.admin), world_a, line(tea, "2"),
        payments=[{"method": "CARD", "amount": "18.65"}],
        discount={"type": "AMOUNT", "value": "4.29"},
    )  # fmt: skip


@pytest.fixture
def sale(api, world_a, goods) -> dict:
    """A cashier's sale of 2 bread and 1 wine, paid by card exactly."""
    return checkout(api(world_a.cashier), world_a, line(goods.bread, "2"), line(goods.wine))


def checkout(client, world, *items, payments=None, **extra) -> dict:
    """A sale through the API; without `payments`, paid by card exactly (priced by a quote)."""
    if payments is None:
        total = _quoted_total(client, world, items, extra)
        payments = [{"method": "CARD", "amount": total}]
    response = client.post(
        CHECKOUT,
        {"storeId": str(world.store.pk), "items": list(items), "payments": payments, **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def _quoted_total(client, world, items, extra) -> str:
    """The total a quote gives (a quote without payments prices the cart)."""
    quote = client.post(
        "/api/v1/sales/quote",
        {"storeId": str(world.store.pk), "items": list(items), **extra},
        format="json",
    )
    assert quote.status_code == 200, quote.content
    return quote.json()["data"]["total"]


def pdf_text(pdf: bytes) -> tuple[int, str]:
    """The PDF's page count and the text of its pages."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)
