"""Shifts under real parallel connections (committed work, no test transaction): Z numbers stay
gap-free when closes race, and a close racing with checkouts takes exactly the sales of its
shift — each sale belongs to one shift or, once the shift is closed, to none."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import connection
from django_tenants.utils import tenant_context

from apps.pos import services
from apps.pos.models import Shift, ZReport
from apps.sales import pricing
from apps.sales import services as sales
from apps.sales.models import Sale
from apps.sales.tests.conftest import run_threads

D = Decimal


def test_parallel_closes_get_gap_free_z_numbers(committed):
    world, _ = committed
    with tenant_context(world.tenant):
        shifts = [
            Shift.objects.create(
                store=world.store,
                drawer=f"D{n}",
                cashier_id=uuid.uuid4(),
                opening_float=D("10.00"),
            )
            for n in range(8)
        ]
    connection.set_schema_to_public()

    outcomes = run_threads(
        world,
        8,
        lambda n: (
            services.shift_close(
                actor=world.manager, shift_id=shifts[n].pk, counted_cash=D("10.00")
            ).z_report.sequence
        ),
        threads=8,
    )

    assert sorted(outcomes) == list(range(1, 9)), outcomes
    with tenant_context(world.tenant):
        assert sorted(ZReport.objects.values_list("number", flat=True)) == [
            f"Z-S1-{n:06d}" for n in range(1, 9)
        ]
        assert set(Shift.objects.values_list("status", flat=True)) == {"CLOSED"}


def test_a_close_racing_with_checkouts_takes_exactly_its_shift_s_sales(committed):
    world, product = committed
    with tenant_context(world.tenant):
        shift = services.shift_open(
            actor=world.cashier, store_id=world.store.pk, opening_float=D("50.00")
        )
    connection.set_schema_to_public()

    def work(n: int):
        if n == 0:
            closed = services.shift_close(
                actor=world.manager, shift_id=shift.pk, counted_cash=D("0.00")
            )
            return ("closed", closed.z_report.data)
        sale = sales.sale_checkout(
            actor=world.cashier,
            checkout=sales.Checkout(
                store_id=world.store.pk,
                items=[sales.CartItem(product_id=product.pk, quantity=D("1"))],
                payments=[pricing.Tender("CASH", D("5.00"))],
            ),
        ).sale
        return ("sold", sale.pk)

    outcomes = run_threads(world, 12, work, threads=12)

    (z,) = [data for kind, data in outcomes if kind == "closed"]
    sold = [pk for kind, pk in outcomes if kind == "sold"]
    assert len(sold) == 11, outcomes
    with tenant_context(world.tenant):
        in_shift = Sale.objects.filter(pk__in=sold, shift=shift)
        after = Sale.objects.filter(pk__in=sold, shift__isnull=True)
        assert in_shift.count() + after.count() == 11  # each sale: its shift, or none
        assert z["sales_count"] == in_shift.count()
        assert D(z["cash_sales"]) == sum((s.total for s in in_shift), D("0.00"))
        assert D(z["expected_cash"]) == D("50.00") + D(z["cash_sales"])
        # the sales after the close found no open shift (the company does not require one)
        closed_at = Shift.objects.get(pk=shift.pk).closed_at
        assert all(s.created_at >= closed_at for s in after)
