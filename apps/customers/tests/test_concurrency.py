"""Customers under real parallel connections (committed work, no test transaction): charges
against one credit limit, duplicate contacts, a group deleted while a customer joins it."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.core.errors import ApplicationError
from apps.customers import services
from apps.customers.models import Customer, CustomerGroup, CustomerLedgerEntry, LoyaltyEntry
from apps.customers.tests.conftest import mismatches


@pytest.fixture
def committed(worlds, django_db_blocker):
    """Tenant A with committed writes allowed; every customer row the test made is removed
    afterwards (the ledgers only under maintenance)."""
    world = worlds["a"]
    with django_db_blocker.unblock():
        yield world
        with tenant_context(world.tenant), audit_maintenance():
            CustomerLedgerEntry.objects.all().delete()
            LoyaltyEntry.objects.all().delete()
            Customer.objects.all().delete()
            CustomerGroup.objects.all().delete()
            AuditLog.objects.filter(entity_type__in=["customer", "customer_group"]).delete()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM core_documentcounter WHERE series = 'customer'")
        connection.set_schema_to_public()


def run_parallel(world, count: int, work) -> list:
    """Runs `work(i)` in `count` threads, each on its own connection, released together by a
    barrier; returns each outcome (a result or the ApplicationError code)."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def worker(index: int) -> None:
        try:
            with tenant_context(world.tenant):
                barrier.wait(timeout=30)
                try:
                    outcomes[index] = work(index)
                except ApplicationError as exc:
                    outcomes[index] = exc.code
        except Exception as exc:
            outcomes[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_parallel_charges_against_a_limit_that_fits_ten(committed):
    with tenant_context(committed.tenant):
        customer = Customer.objects.create(
            code="C-CONC-1", name="Credit", credit_limit=Decimal("100.00")
        )

    outcomes = run_parallel(
        committed,
        20,
        lambda i: (
            services.customer_charge(
                actor=None, customer_id=customer.pk, amount=Decimal("10.00")
            ).balance_after
        ),
    )

    kinds = Counter("ok" if isinstance(o, Decimal) else o for o in outcomes)
    assert kinds == {"ok": 10, "CREDIT_LIMIT_EXCEEDED": 10}, outcomes
    assert sorted(o for o in outcomes if isinstance(o, Decimal)) == [
        Decimal(10 * n) for n in range(1, 11)
    ]  # each success saw the one before it
    with tenant_context(committed.tenant):
        assert Customer.objects.get(pk=customer.pk).balance == Decimal("100.00")
        assert CustomerLedgerEntry.objects.filter(customer_id=customer.pk).count() == 10
        assert mismatches() == []


def test_parallel_points_never_go_negative(committed):
    with tenant_context(committed.tenant):
        customer = Customer.objects.create(code="C-CONC-2", name="Points")
        services.loyalty_adjust(actor=None, customer_id=customer.pk, points=50, reason="seed")

    outcomes = run_parallel(
        committed,
        12,
        lambda i: (
            services.loyalty_adjust(
                actor=None, customer_id=customer.pk, points=-10, reason="take"
            ).points_after
        ),
    )

    kinds = Counter("ok" if isinstance(o, int) else o for o in outcomes)
    assert kinds == {"ok": 5, "INSUFFICIENT_POINTS": 7}, outcomes
    with tenant_context(committed.tenant):
        assert Customer.objects.get(pk=customer.pk).loyalty_points == 0
        assert mismatches() == []


def test_parallel_creates_with_one_email_make_one_customer(committed):
    outcomes = run_parallel(
        committed,
        8,
        lambda i: (
            services.customer_create(
                actor=None,
                name=f"Twin {i}",
                email="Twin@Example.com" if i % 2 else "twin@example.com",
            ).code
        ),
    )

    kinds = Counter("ok" if str(o).startswith("C-") else o for o in outcomes)
    assert kinds == {"ok": 1, "CONFLICT": 7}, outcomes
    with tenant_context(committed.tenant):
        assert Customer.objects.count() == 1
        # the refused creates gave their numbers back: the next customer is C-000002
        assert services.customer_create(actor=None, name="Next").code == "C-000002"


def test_a_group_deleted_while_a_customer_joins_it(committed):
    """Either the join wins (the delete is refused: in use) or the delete wins (the join is
    refused: unknown group) — never a customer in a deleted group."""
    with tenant_context(committed.tenant):
        group = CustomerGroup.objects.create(name="Race", discount_percent=Decimal("5"))
        customer = Customer.objects.create(code="C-CONC-3", name="Joiner")

    def work(i: int):
        if i == 0:
            return services.customer_group_delete(actor=None, group_id=group.pk).deleted_at
        return services.customer_update(
            actor=None, customer_id=customer.pk, group_id=group.pk
        ).group_id

    delete, join = run_parallel(committed, 2, work)

    assert (delete == "IN_USE" and join == group.pk) or (
        delete is not None and not isinstance(delete, str) and join == "VALIDATION_ERROR"
    ), (delete, join)
    with tenant_context(committed.tenant):
        live_group = CustomerGroup.objects.alive().filter(pk=group.pk).exists()
        member = Customer.objects.get(pk=customer.pk).group_id == group.pk
        assert live_group or not member
