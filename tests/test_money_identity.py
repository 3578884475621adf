"""The figures a person reads add up, on every document, in both pricing modes (issue 25):
- prices include tax: subtotal - discountTotal + roundingAdjustment = total (tax included);
- prices exclude tax: subtotal - discountTotal + taxTotal + roundingAdjustment = total.

A hypothesis property over random carts — line discounts (percent and amount), a customer
group's percent, a cart discount, redeemed points, cash rounding or an exact card payment — run
through the API: the sale, its quote, the receipt's data, its HTML and its text all show the
same stored figures and each satisfies its mode's identity, to the cent; and the sales report
over those sales satisfies its own (grossSales - discounts - returns = netSales; netSales + tax +
rounding = totalCollected = what the sales took)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.customers.models import Customer, CustomerGroup
from apps.sales.models import Sale
from apps.sales.tests.conftest import shelf as shelf  # a fixture
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0.00")
FIGURES = ("subtotal", "discountTotal", "taxTotal", "roundingAdjustment", "total")
HTML_TOTAL = re.compile(r'data-total="([a-z-]+)">\s*<td>[^<]*</td><td class="v">([^<]*)</td>')
TEXT_LABELS = {"Subtotal": "subtotal", "Discounts": "discounts", "Tax": "tax",
               "Rounding": "rounding"}  # fmt: skip


def holds(figures: dict[str, Decimal], *, inclusive: bool) -> bool:
    added_tax = ZERO if inclusive else figures["taxTotal"]
    return (
        figures["subtotal"] - figures["discountTotal"] + added_tax + figures["roundingAdjustment"]
        == figures["total"]
    )


def wire(data: dict) -> dict[str, Decimal]:
    return {key: D(data[key]) for key in FIGURES}


def html_figures(html: str) -> dict[str, Decimal]:
    """The receipt's totals rows, by their `data-total` tag (absent rows are zero)."""
    rows = {tag: D(value) for tag, value in HTML_TOTAL.findall(html) if tag != "tax-included"}
    included = sum((D(v) for tag, v in HTML_TOTAL.findall(html) if tag == "tax-included"), ZERO)
    return {
        "subtotal": rows["subtotal"],
        "discountTotal": -rows.get("discounts", ZERO),
        "taxTotal": rows.get("tax", included),
        "roundingAdjustment": rows.get("rounding", ZERO),
        "total": rows["total"],
    }


def text_figures(text: str) -> dict[str, Decimal]:
    """The text receipt's totals block: 'Subtotal … 22.94', 'Discounts … -4.29', 'Tax …',
    'Rounding …', 'TOTAL USD … 18.65', 'Tax included 23% … 3.49'."""
    found = {"discounts": ZERO, "tax": ZERO, "rounding": ZERO, "included": ZERO}
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Subtotal"))
    for line in lines[start:]:
        if set(line) == {"-"}:
            break
        parts = line.rsplit(maxsplit=1)
        if len(parts) < 2:
            continue
        label, value = parts
        if label.startswith("TOTAL"):
            found["total"] = D(value)
        elif label.startswith("Tax included"):
            found["included"] += D(value)
        elif label in TEXT_LABELS:
            found[TEXT_LABELS[label]] = D(value)
    return {
        "subtotal": found["subtotal"],
        "discountTotal": -found["discounts"],
        "taxTotal": found["tax"] or found["included"],
        "roundingAdjustment": found["rounding"],
        "total": found["total"],
    }


percents = st.decimals(min_value=0, max_value=30, places=2)
line_discounts = st.one_of(
    st.none(),
    st.builds(lambda v: {"type": "PERCENT", "value": str(v)}, percents),
    st.builds(lambda v: {"type": "AMOUNT", "value": str(v)},
              st.decimals(min_value=0, max_value=D("0.50"), places=2)),
)  # fmt: skip
carts = st.lists(
    st.one_of(
        st.tuples(st.just("beans"), st.sampled_from(["0.125", "1.5", "2"]), line_discounts),
        st.tuples(
            st.sampled_from(["water", "wrap"]), st.sampled_from(["1", "2", "3"]), line_discounts
        ),
    ),  # beans are sold by weight
    min_size=1,
    max_size=3,
)


@pytest.fixture
def people(world_a):
    """A customer in a 5 % group with points to spend, and one without a group."""
    with tenant_context(world_a.tenant):
        group = CustomerGroup.objects.create(name="Staff", discount_percent=D("5.00"))
        member = Customer.objects.create(
            code="C-901", name="Member", group=group, loyalty_points=100_000,
            credit_limit=D("0.00"),
        )  # fmt: skip
        walk_in = Customer.objects.create(code="C-902", name="Walk-in", loyalty_points=100_000)
    connection.set_schema_to_public()
    return {"member": member, "walk_in": walk_in}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=carts,
    customer=st.sampled_from([None, "member", "walk_in"]),
    cart=st.one_of(
        st.none(),
        st.builds(lambda v: {"type": "PERCENT", "value": str(v)}, percents),
        st.builds(
            lambda v: {"type": "AMOUNT", "value": str(v)},
            st.decimals(min_value=0, max_value=D("0.30"), places=2),
        ),
    ),
    points=st.sampled_from([0, 10, 25]),
    inclusive=st.booleans(),
    step=st.sampled_from(["0.00", "0.05", "0.10"]),
    by_card=st.booleans(),
)
def test_every_document_adds_up(
    api, world_a, shelf, people, lines, customer, cart, points, inclusive, step, by_card
):
    company(
        world_a, tax_rate=D("23"), prices_include_tax=inclusive, cash_rounding=step,
        allow_negative_stock=True, loyalty_enabled=True, loyalty_points_per_unit=D("1"),
        loyalty_point_value=D("0.01"), loyalty_min_redeem_points=0,
    )  # fmt: skip
    client = api(world_a.admin)
    products = {"water": shelf.water, "beans": shelf.beans, "wrap": shelf.wrap}
    body = {
        "storeId": str(world_a.store.pk),
        "items": [
            {"productId": str(products[name].pk), "quantity": quantity,
             **({"discount": discount} if discount else {})}
            for name, quantity, discount in lines
        ],
        "payments": [{"method": "CASH", "amount": "500.00"}],
    }  # fmt: skip
    if cart:
        body["discount"] = cart
    if customer:
        body["customerId"] = str(people[customer].pk)
        body["redeemPoints"] = points
    probe = client.post("/api/v1/sales/quote", body, format="json")
    if probe.status_code == 422:  # an amount discount above what it applies to, points > sale
        assert probe.json()["error"]["code"] in ("DISCOUNT_INVALID", "POINTS_EXCEED_TOTAL")
        return
    assert probe.status_code == 200, probe.content
    if by_card:  # the exact total by card: no cash rounding
        exact = D(probe.json()["data"]["total"]) - D(probe.json()["data"]["roundingAdjustment"])
        body["payments"] = [{"method": "CARD", "amount": str(exact)}] if exact else []
    quoted = client.post("/api/v1/sales/quote", body, format="json")
    assert quoted.status_code == 200, quoted.content
    sold = client.post("/api/v1/sales/checkout", body, format="json")
    assert sold.status_code == 201, sold.content
    sale = sold.json()["data"]
    figures = wire(sale)

    assert holds(figures, inclusive=inclusive), figures
    assert sale["pricesIncludeTax"] is inclusive
    assert wire(quoted.json()["data"]) == figures
    assert holds(wire(quoted.json()["data"]), inclusive=inclusive)
    with tenant_context(world_a.tenant):
        stored = Sale.objects.get(pk=sale["id"])
        assert {
            "subtotal": stored.subtotal, "discountTotal": stored.discount_total,
            "taxTotal": stored.tax_total, "roundingAdjustment": stored.rounding_adjustment,
            "total": stored.total,
        } == figures  # fmt: skip
        # the same sale without tax (what the sales report sums): gross - discounts = net
        assert (
            stored.untaxed_gross - stored.untaxed_discounts + stored.tax_total
            + stored.rounding_adjustment == stored.total
        )  # fmt: skip
    connection.set_schema_to_public()

    receipt = client.get(f"/api/v1/receipts/sale/{sale['id']}")
    assert receipt.status_code == 200, receipt.content
    data = receipt.json()["data"]
    assert wire(data["data"]["totals"]) == figures
    assert data["data"]["pricesIncludeTax"] is inclusive
    assert html_figures(data["html"]) == figures
    text = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "text"})
    assert text.status_code == 200
    assert text_figures(text.content.decode()) == figures

    # the sales report over every sale so far (the examples' sales accumulate in this test's
    # transaction): its accounting identities, and what it says was collected
    report = client.get("/api/v1/reports/sales")
    assert report.status_code == 200, report.content
    totals = {k: D(v) for k, v in report.json()["data"]["totals"].items() if k != "count"}
    assert totals["grossSales"] - totals["discounts"] - totals["returns"] == totals["netSales"]
    assert totals["netSales"] + totals["tax"] + totals["rounding"] == totals["totalCollected"]
    with tenant_context(world_a.tenant):
        collected = sum(Sale.objects.values_list("total", flat=True), ZERO)
        taxed = sum(Sale.objects.values_list("tax_total", flat=True), ZERO)
    connection.set_schema_to_public()
    assert (totals["totalCollected"], totals["tax"], totals["returns"]) == (collected, taxed, ZERO)
