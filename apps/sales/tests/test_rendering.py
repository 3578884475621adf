"""A sale is rendered directly (`sale_json`, the checkout's hot path), not field by field: the
result must be exactly what DRF renders from SaleSerializer's declared fields — the schema the
clients are written against — for every kind of sale: just checked out (amounts still as
computed), stored, quoted, with a customer and points, fractional quantities, discounts, cash
rounding, a partial return, and with the cost hidden from cashiers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.customers.models import Customer
from apps.sales import pricing, selectors, services
from apps.sales.api.serializers import SaleSerializer
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal


def renderings(sale, *, hide_cost: bool) -> tuple[dict, dict]:
    serializer = SaleSerializer(sale, context={"hide_cost": hide_cost})
    return serializer.data, serializer.generic_representation(sale)


def assert_same(sale) -> None:
    for hide_cost in (False, True):
        direct, generic = renderings(sale, hide_cost=hide_cost)
        assert direct == generic
        assert list(direct) == list(generic)  # the same key order too


def test_every_kind_of_sale_renders_as_the_serializer_declares(world_a, shelf):
    company(
        world_a, tax_rate=D("23"), cash_rounding="0.05", loyalty_enabled=True,
        loyalty_points_per_unit=D("1"), loyalty_min_redeem_points=0,
        # the wrap's half-price override and the cart discount compound to 55 %: no approval
        # needed here (apps.sales.approval)
        max_discount_percent={"CASHIER": "10", "MANAGER": "100", "ADMIN": "100"},
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        ana = Customer.objects.create(code="C-1", name="Ana", credit_limit=D("100.00"))
        cart = services.Checkout(
            store_id=world_a.store.pk,
            customer_id=ana.pk,
            items=[
                services.CartItem(
                    product_id=shelf.beans.pk,
                    quantity=D("0.375"),
                    discount=pricing.Discount("PERCENT", D("10")),
                ),
                services.CartItem(product_id=shelf.water.pk, quantity=D("3")),
                services.CartItem(product_id=shelf.wrap.pk, quantity=D("1"), unit_price=D("0.5")),
            ],
            discount=pricing.Discount("AMOUNT", D("1.10")),
            payments=[pricing.Tender("CASH", D("20")), pricing.Tender("CARD", D("3.3"))],
            references=["", "auth-77"],
            note="Birthday",
        )
        quoted = services.sale_quote(actor=world_a.manager, checkout=cart)
        checked_out = services.sale_checkout(actor=world_a.manager, checkout=cart).sale
        stored = selectors.sale_get(sale_id=checked_out.pk)
        beans_line = next(i for i in stored.items.all() if i.product_id == shelf.beans.pk)
        services.sale_return(
            actor=world_a.manager, sale_id=stored.pk, refund_method="CASH", reason="Too much",
            items=[services.ReturnLine(item_id=beans_line.pk, quantity=D("0.125"))],
        )  # fmt: skip
        returned = selectors.sale_get(sale_id=stored.pk)

        # the fixture is what it claims to be: every awkward value is present
        assert quoted.number == "" and checked_out.number.endswith("-000001")
        assert checked_out.customer_id == ana.pk and checked_out.points_earned > 0
        assert checked_out.rounding_adjustment != 0 and checked_out.change_due > 0
        assert returned.status == "PARTIALLY_RETURNED"
        assert [i.returned_quantity for i in returned.items.all() if i.pk == beans_line.pk] == [
            D("0.125")
        ]
        for sale in (quoted, checked_out, stored, returned):
            assert_same(sale)

    direct, _ = renderings(checked_out, hide_cost=True)
    assert direct["number"] == checked_out.number
    assert renderings(quoted, hide_cost=True)[0]["number"] is None
    assert {item["unit_cost"] for item in direct["items"]} == {None}
    shown, _ = renderings(checked_out, hide_cost=False)
    assert [item["unit_cost"] for item in shown["items"]] == ["12.5000", "0.3000", "0.0000"]
    assert [item["quantity"] for item in shown["items"]] == ["0.375", "3", "1"]
    assert [(p["method"], p["amount"], p["reference"]) for p in shown["payments"]] == [
        ("CASH", "20.00", ""),
        ("CARD", "3.30", "auth-77"),
    ]
