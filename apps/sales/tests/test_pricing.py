"""The money of a sale as properties (hypothesis, no database): for random carts, discounts,
tax modes, cash rounding and payment splits the totals reconcile to the cent, and any sequence
of partial returns refunds exactly the sale's total, never more."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.core.errors import BusinessRuleViolation
from apps.sales.pricing import (
    CENT,
    ZERO,
    Discount,
    LineInput,
    SoldLine,
    Tender,
    allocate,
    cash_rounded,
    cents,
    change_limit,
    line_refund,
    line_refund_tax,
    price_cart,
    rounding_refund,
    settle,
)

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)
quantities = st.one_of(
    st.integers(min_value=1, max_value=12).map(Decimal),
    st.decimals(min_value=D("0.001"), max_value=D("5.000"), places=3),
)
rates = st.sampled_from([D("0"), D("6"), D("13"), D("21"), D("23"), D("7.5")])
percents = st.decimals(min_value=D("0"), max_value=D("100"), places=2)


@st.composite
def carts(draw):
    lines = []
    for n in range(draw(st.integers(min_value=1, max_value=6))):
        line = LineInput(
            quantity=draw(quantities),
            unit_price=draw(money),
            tax_rate=draw(rates),
            field=f"items.{n}",
        )
        # a line worth less than a cent is refused (test_a_line_worth_less_than_a_cent_is_refused)
        assume(cents(line.quantity * line.unit_price) > 0)
        if draw(st.booleans()):
            line = LineInput(
                line.quantity, line.unit_price, line.tax_rate, Discount("PERCENT", draw(percents))
            )
        lines.append(line)
    return lines


def test_allocate_gives_away_exactly_and_by_share():
    assert allocate(D("1.00"), [D("1"), D("1"), D("1")]) == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate(D("0.05"), [D("10.00"), D("0.01")]) == [D("0.05"), D("0.00")]
    assert allocate(D("3.00"), [D("1.00"), D("2.00")]) == [D("1.00"), D("2.00")]
    assert allocate(ZERO, [D("1")]) == [ZERO]


def test_the_documented_order_on_a_worked_example():
    """2 x 10.00 with 10 % off the line, a 5 % group, 3.00 off the cart, 23 % tax on top;
    1 x 5.00 untaxed."""
    totals = price_cart(
        [
            LineInput(D("2"), D("10.00"), D("23"), Discount("PERCENT", D("10"))),
            LineInput(D("1"), D("5.00"), D("0")),
        ],
        group_percent=D("5"),
        cart_discount=Discount("AMOUNT", D("3.00")),
    )
    first, second = totals.lines
    # line 1: 20.00 - 2.00 = 18.00 - 0.90 group = 17.10; line 2: 5.00 - 0.25 = 4.75
    # cart 3.00 by share of 17.10 / 4.75: 2.35 / 0.65
    assert (first.line_discount, first.group_discount, first.cart_discount) == (
        D("2.00"), D("0.90"), D("2.35"),
    )  # fmt: skip
    assert (second.group_discount, second.cart_discount) == (D("0.25"), D("0.65"))
    assert (first.taxable, first.tax_amount, first.line_total) == (
        D("14.75"),
        D("3.39"),
        D("18.14"),
    )
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("25.00"), D("6.15"), D("3.39"), D("22.24"),
    )  # fmt: skip


def test_prices_that_include_tax_contain_it():
    # the subtotal is the prices as shown (with their tax); the tax is contained, not added
    totals = price_cart([LineInput(D("1"), D("12.30"), D("23"))], prices_include_tax=True)
    assert (totals.lines[0].tax_amount, totals.total, totals.subtotal) == (
        D("2.30"), D("12.30"), D("12.30"),
    )  # fmt: skip


def test_inclusive_discounted_cart_adds_up_as_printed():
    """Issue 25's receipt: 2 x 11.47 at 23 % included, 4.29 off the cart. It printed
    Subtotal 19.45 (neither the gross nor the net); the subtotal is the gross, 22.94."""
    totals = price_cart(
        [LineInput(D("2"), D("11.47"), D("23"))],
        cart_discount=Discount("AMOUNT", D("4.29")),
        prices_include_tax=True,
    )
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("22.94"), D("4.29"), D("3.49"), D("18.65"),
    )  # fmt: skip
    assert totals.subtotal - totals.discount_total == totals.total


def test_exclusive_discounted_cart_adds_the_tax():
    totals = price_cart(
        [LineInput(D("2"), D("11.47"), D("23"))],
        cart_discount=Discount("AMOUNT", D("4.29")),
        prices_include_tax=False,
    )
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("22.94"), D("4.29"), D("4.29"), D("22.94"),
    )  # fmt: skip
    assert totals.subtotal - totals.discount_total + totals.tax_total == totals.total


def test_a_line_worth_less_than_a_cent_is_refused():
    """Issue 26 point 8: 0.001 kg at 2.49 rounded to 0.00 and left for free."""
    with pytest.raises(BusinessRuleViolation) as refused:
        price_cart(
            [
                LineInput(D("1"), D("2.49"), D("0"), field="items.0"),
                LineInput(D("0.001"), D("2.49"), D("0"), field="items.1"),
            ]
        )
    assert refused.value.code == "LINE_ROUNDS_TO_ZERO"
    assert refused.value.details == [
        {"field": "items.1.quantity", "message": "Worth less than a cent at this price."}
    ]


def test_free_items_and_the_smallest_priced_line_are_allowed():
    totals = price_cart(
        [
            LineInput(D("1"), D("0.00"), D("0"), field="items.0"),  # a free item
            LineInput(D("0.003"), D("2.49"), D("0"), field="items.1"),  # 0.00747 → 0.01
        ]
    )
    assert [a.line_total for a in totals.lines] == [D("0.00"), D("0.01")]
    assert totals.total == D("0.01")


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"cart_discount": Discount("AMOUNT", D("10.01"))}, "DISCOUNT_INVALID", "discount"),
        ({"cart_discount": Discount("PERCENT", D("100.5"))}, "DISCOUNT_INVALID", "discount"),
        ({"points_value": D("10.01")}, "POINTS_EXCEED_TOTAL", "redeemPoints"),
    ],
)
def test_discounts_beyond_the_amount_are_refused(kwargs, code, field):
    with pytest.raises(BusinessRuleViolation) as refused:
        price_cart([LineInput(D("1"), D("10.00"), D("0"))], **kwargs)
    assert (refused.value.code, refused.value.details[0]["field"]) == (code, field)


@settings(max_examples=300, deadline=None)
@given(
    lines=carts(),
    group=percents,
    cart=st.one_of(
        st.none(),
        st.builds(Discount, st.just("PERCENT"), percents),
        st.builds(Discount, st.just("AMOUNT"), st.decimals(min_value=0, max_value=5, places=2)),
    ),
    points_share=st.decimals(min_value=0, max_value=1, places=2),
    inclusive=st.booleans(),
)
def test_totals_reconcile_to_the_cent(lines, group, cart, points_share, inclusive):
    try:
        before_points = price_cart(lines, group_percent=group, cart_discount=cart)
    except BusinessRuleViolation:  # an amount discount above the cart: refused, checked above
        return
    points = (sum((a.taxable for a in before_points.lines), ZERO) * points_share).quantize(
        CENT, rounding="ROUND_DOWN"
    )
    totals = price_cart(
        lines,
        group_percent=group,
        cart_discount=cart,
        points_value=points,
        prices_include_tax=inclusive,
    )
    assert totals.total == sum((a.line_total for a in totals.lines), ZERO)
    # the pricing mode's identity: tax added to an exclusive subtotal, contained in an inclusive
    added_tax = ZERO if inclusive else totals.tax_total
    assert totals.subtotal - totals.discount_total + added_tax == totals.total
    assert totals.subtotal == sum((a.gross for a in totals.lines), ZERO)
    assert sum((a.points_discount for a in totals.lines), ZERO) == points
    for amounts in totals.lines:
        assert amounts.taxable >= 0
        assert amounts.tax_amount >= 0
        for value in (amounts.discount_amount, amounts.tax_amount, amounts.line_total):
            assert value == value.quantize(CENT)
    if cart is not None and cart.type == "AMOUNT":
        assert sum((a.cart_discount for a in totals.lines), ZERO) == cart.value


@settings(max_examples=300, deadline=None)
@given(
    total=st.decimals(min_value=D("0.01"), max_value=D("900"), places=2),
    step=st.sampled_from([D("0.00"), D("0.05"), D("0.10"), D("0.25"), D("1.00")]),
    parts=st.lists(
        st.tuples(
            st.sampled_from(["CASH", "CARD", "MOBILE", "STORE_CREDIT"]),
            st.decimals(min_value=D("0.01"), max_value=D("400"), places=2),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_payments_minus_change_plus_due_is_the_total(total, step, parts):
    tenders = [Tender(method, amount) for method, amount in parts]
    try:
        result = settle(total, tenders, rounding_step=step)
    except BusinessRuleViolation as refused:
        assert refused.code == "OVERPAYMENT"
        cash_total = cash_rounded(total, step) if any(m == "CASH" for m, _ in parts) else total
        non_cash = sum((a for m, a in parts if m != "CASH"), ZERO)
        change = sum((a for _, a in parts), ZERO) - cash_total
        # only cash gives change, and at most change_limit of what the cash pays
        assert non_cash > cash_total or change > change_limit(cash_total - non_cash)
        return
    assert result.paid_total - result.change_due + result.due_amount == result.total
    assert result.change_due <= sum((a for m, a in parts if m == "CASH"), ZERO)
    assert result.total == total + result.rounding_adjustment
    has_cash = any(m == "CASH" for m, _ in parts)
    assert result.rounding_adjustment == (cash_rounded(total, step) - total if has_cash else 0)
    assert abs(result.rounding_adjustment) <= step / 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.large_base_example])
@given(
    sold=st.lists(
        st.tuples(st.integers(min_value=1, max_value=9), money, st.integers(0, 23)),
        min_size=1,
        max_size=5,
    ),
    adjustment=st.sampled_from([D("-0.02"), D("0.00"), D("0.01"), D("0.02")]),
    data=st.data(),
)
def test_any_sequence_of_partial_returns_refunds_exactly_the_total(sold, adjustment, data):
    quantities = [Decimal(q) for q, _, _ in sold]
    totals = [amount for _, amount, _ in sold]
    taxes = [cents(amount * rate / (100 + rate)) for _, amount, rate in sold]
    returned = [ZERO for _ in sold]
    lines_total = sum(totals, ZERO)
    refunded_lines = refunded_all = tax_back = ZERO
    while any(r < q for r, q in zip(returned, quantities, strict=True)):
        now = ZERO
        takes = [
            data.draw(st.integers(min_value=0, max_value=int(quantities[i] - returned[i])))
            for i in range(len(sold))
        ]
        if not any(takes):  # every return returns something
            takes[next(i for i in range(len(sold)) if returned[i] < quantities[i])] = 1
        for i, take in enumerate(takes):
            if take:
                line = SoldLine(quantities[i], totals[i], returned[i], taxes[i])
                now += line_refund(line, Decimal(take))
                tax_back += line_refund_tax(line, Decimal(take))
                returned[i] += take
        refund = now + rounding_refund(adjustment, lines_total, refunded_lines, now)
        refunded_lines += now
        refunded_all += refund
        assert refunded_all <= lines_total + max(adjustment, ZERO)
    assert refunded_lines == lines_total
    assert refunded_all == lines_total + adjustment
    assert tax_back == sum(taxes, ZERO)  # the returns of every line give back exactly its tax
