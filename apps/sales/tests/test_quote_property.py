"""Quote = checkout, as a property over random carts (hypothesis, through the services): the
quote answers exactly the amounts the checkout then stores, and the stored totals are the sums
of the stored lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.sales import pricing, services
from apps.sales.models import Sale
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
AMOUNTS = ("subtotal", "discount_total", "tax_total", "rounding_adjustment", "total",
           "paid_total", "change_due", "due_amount")  # fmt: skip
LINE_AMOUNTS = ("quantity", "unit_price", "discount_amount", "tax_amount", "line_total")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["water", "beans", "wrap"]),
            st.integers(min_value=1, max_value=3),
            st.one_of(st.none(), st.decimals(min_value=0, max_value=50, places=1)),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda line: line[0],
    ),
    cart_percent=st.one_of(st.none(), st.decimals(min_value=0, max_value=30, places=2)),
    inclusive=st.booleans(),
    step=st.sampled_from(["0.00", "0.05", "0.10"]),
    method=st.sampled_from(["CASH", "CARD"]),
)
def test_quote_equals_checkout(world_a, shelf, lines, cart_percent, inclusive, step, method):
    company(
        world_a, tax_rate=D("23"), prices_include_tax=inclusive, cash_rounding=step,
        allow_negative_stock=True,  # many examples, one shelf
        # line and cart discounts compound up to 65 %: no approval needed (apps.sales.approval)
        max_discount_percent={"CASHIER": "10", "MANAGER": "100", "ADMIN": "100"},
    )  # fmt: skip
    products = {"water": shelf.water, "beans": shelf.beans, "wrap": shelf.wrap}
    items = [
        services.CartItem(
            product_id=products[name].pk,
            quantity=D(quantity),
            discount=None if percent is None else pricing.Discount("PERCENT", percent),
        )
        for name, quantity, percent in lines
    ]
    cart = services.Checkout(
        store_id=world_a.store.pk,
        items=items,
        discount=None if cart_percent is None else pricing.Discount("PERCENT", cart_percent),
        payments=[pricing.Tender("CASH", D("500.00"))],
    )
    with tenant_context(world_a.tenant):
        probe = services.sale_quote(actor=world_a.manager, checkout=cart)
        if method == "CARD":  # pay the exact total by card (no cash rounding then)
            exact = probe.total - probe.rounding_adjustment
            cart = services.Checkout(
                store_id=cart.store_id, items=cart.items, discount=cart.discount,
                payments=[pricing.Tender("CARD", exact)],
            )  # fmt: skip
        quoted = services.sale_quote(actor=world_a.manager, checkout=cart)
        sale = services.sale_checkout(actor=world_a.manager, checkout=cart).sale
        stored = Sale.objects.prefetch_related("items").get(pk=sale.pk)
        assert [getattr(quoted, f) for f in AMOUNTS] == [getattr(stored, f) for f in AMOUNTS]
        stored_lines = list(stored.items.order_by("position"))
        assert [[getattr(i, f) for f in LINE_AMOUNTS] for i in quoted.unsaved_items] == [
            [getattr(i, f) for f in LINE_AMOUNTS] for i in stored_lines
        ]
        assert stored.total - stored.rounding_adjustment == sum(i.line_total for i in stored_lines)
        # the identity of the pricing mode: tax is added to an exclusive subtotal, contained in
        # an inclusive one
        added_tax = D("0.00") if inclusive else stored.tax_total
        assert stored.subtotal - stored.discount_total + added_tax == sum(
            i.line_total for i in stored_lines
        )
        assert stored.subtotal == sum(
            (i.quantity * i.unit_price).quantize(D("0.01")) for i in stored_lines
        )
        assert stored.paid_total - stored.change_due + stored.due_amount == stored.total
