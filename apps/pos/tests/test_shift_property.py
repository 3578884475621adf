"""The drawer's arithmetic as a property (hypothesis, through the services): for any sequence of
cash and card sales with change, cash refunds, voids, pay-ins, pay-outs and drops, the expected
cash is float + cash sales net of change - refunds - voids + pay-ins - pay-outs - drops, each
figure of the X report is its own sum, a pay-out or drop never takes more than the drawer should
hold, and the close freezes exactly these figures with variance = counted - expected."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.catalog.models import Product
from apps.core.errors import BusinessRuleViolation
from apps.pos import selectors, services
from apps.sales import pricing
from apps.sales import services as sales
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
CENT = D("0.01")
PRICE = D("1.23")

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("sale"),
            st.integers(1, 5),  # quantity
            st.sampled_from(["CASH", "CARD", "SPLIT"]),
            st.integers(0, 2000),  # extra cash tendered, in cents (change)
        ),
        st.tuples(st.just("return"), st.integers(1, 2)),
        st.tuples(st.just("void")),
        st.tuples(st.sampled_from(["PAY_IN", "PAY_OUT", "CASH_DROP"]), st.integers(1, 5000)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, float_cents=st.integers(0, 20000), miscount=st.integers(-300, 300))
def test_expected_cash_is_the_sum_of_the_drawer_log(world_a, ops, float_cents, miscount):
    company(world_a, cash_rounding="0.00", tax_rate=D("0"))
    actor = world_a.manager  # may sell, refund and void, at their own drawer
    with tenant_context(world_a.tenant):
        item, _ = Product.objects.get_or_create(
            sku="PROP-1", defaults={"name": "Property item", "status": "ACTIVE",
                                    "sell_price": PRICE, "track_stock": False},
        )  # fmt: skip
        opening = D(float_cents) / 100
        shift = services.shift_open(actor=actor, store_id=world_a.store.pk, opening_float=opening)
        model = {"SALE": D(0), "REFUND": D(0), "VOID": D(0), "PAY_IN": D(0), "PAY_OUT": D(0),
                 "CASH_DROP": D(0)}  # fmt: skip
        by_method = {"CASH": D(0), "CARD": D(0)}
        cash_sales: list[tuple] = []  # (sale, quantity left, cash kept)
        sales_made = 0

        def expected() -> Decimal:
            return (
                opening + model["SALE"] - model["REFUND"] - model["VOID"] + model["PAY_IN"]
                - model["PAY_OUT"] - model["CASH_DROP"]
            )  # fmt: skip

        for op in ops:
            kind = op[0]
            if kind == "sale":
                _, quantity, method, extra = op
                total = PRICE * quantity
                if method == "CASH":
                    tenders = [pricing.Tender("CASH", total + D(extra) / 100)]
                    cash = total
                elif method == "CARD":
                    tenders, cash = [pricing.Tender("CARD", total)], D(0)
                else:  # a card part and the rest in cash, with change
                    card = (total / 2).quantize(CENT)
                    cash = total - card
                    tenders = [pricing.Tender("CARD", card),
                               pricing.Tender("CASH", cash + D(extra) / 100)]  # fmt: skip
                sale = sales.sale_checkout(
                    actor=actor,
                    checkout=sales.Checkout(
                        store_id=world_a.store.pk,
                        items=[sales.CartItem(product_id=item.pk, quantity=D(quantity))],
                        payments=tenders,
                    ),
                ).sale
                sales_made += 1
                model["SALE"] += cash
                by_method["CASH"] += cash
                by_method["CARD"] += total - cash
                if method == "CASH":
                    cash_sales.append([sale, quantity])
            elif kind == "return" and cash_sales:
                entry = cash_sales[-1]
                sale, left = entry
                units = min(op[1], left)
                line = sale.items.get()
                sales.sale_return(
                    actor=actor, sale_id=sale.pk, refund_method="CASH", reason="prop",
                    items=[sales.ReturnLine(item_id=line.pk, quantity=D(units))],
                )  # fmt: skip
                model["REFUND"] += PRICE * units
                by_method["CASH"] -= PRICE * units
                entry[1] -= units
                if entry[1] == 0:
                    cash_sales.pop()
            elif kind == "void" and cash_sales:
                sale, left = cash_sales[-1]
                if left != sale.items.get().quantity:
                    continue  # returned in part: a return, not a void
                cash_sales.pop()
                sales.sale_void(actor=actor, sale_id=sale.pk, reason="prop")
                model["VOID"] += PRICE * left
                by_method["CASH"] -= PRICE * left
            elif kind in ("PAY_IN", "PAY_OUT", "CASH_DROP"):
                amount = D(op[1]) / 100
                if kind != "PAY_IN" and amount > expected():
                    with pytest.raises(BusinessRuleViolation) as refused:
                        services.shift_cash(
                            actor=actor, shift_id=shift.pk, type=kind, amount=amount, reason="p"
                        )
                    assert refused.value.code == "INSUFFICIENT_CASH"
                    continue
                services.shift_cash(
                    actor=actor, shift_id=shift.pk, type=kind, amount=amount, reason="p"
                )
                model[kind] += amount

        figures = selectors.shift_figures(shift)
        assert figures["expected_cash"] == expected()
        assert (figures["cash_sales"], figures["cash_refunds"], figures["cash_voids"]) == (
            model["SALE"], model["REFUND"], model["VOID"],
        )  # fmt: skip
        assert (figures["pay_ins"], figures["pay_outs"], figures["drops"]) == (
            model["PAY_IN"], model["PAY_OUT"], model["CASH_DROP"],
        )  # fmt: skip
        assert figures["sales_count"] == sales_made
        assert {m["method"]: m["total"] for m in figures["by_method"]} == {
            method: total for method, total in by_method.items()
            if total or any(m["method"] == method for m in figures["by_method"])
        }  # fmt: skip
        counted = max(expected() + D(miscount) / 100, D(0))
        closed = services.shift_close(actor=actor, shift_id=shift.pk, counted_cash=counted)
        assert (closed.expected_cash, closed.counted_cash) == (expected(), counted)
        assert closed.variance == counted - expected()
        z = closed.z_report.data
        assert (D(z["expected_cash"]), D(z["counted_cash"]), D(z["variance"])) == (
            expected(), counted, counted - expected(),
        )  # fmt: skip
