"""Stock under real parallel connections (committed work, no test transaction): no lost update,
no deadlock, no 5xx, and every level equal to the sum of its movements afterwards."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog.models import Product
from apps.core.errors import ApplicationError
from apps.core.models import DocumentCounter
from apps.inventory import services
from apps.inventory.models import StockLevel, StockMovement, Transfer, TransferItem
from apps.inventory.tests.conftest import LEDGER_MISMATCHES, ledger_mismatches

THREADS = 16


@pytest.fixture
def committed_products(worlds, django_db_blocker):
    """`make(n)` creates n plain products in tenant A, committed; everything the test wrote
    about them is removed afterwards (the ledger only under maintenance)."""
    world = worlds["a"]
    made: list[Product] = []

    def make(count: int) -> list[Product]:
        with tenant_context(world.tenant):
            for n in range(count):
                made.append(
                    Product.objects.create(name=f"Concurrent {n}", sku=f"CONC-{n}", status="ACTIVE")
                )
        return made[-count:]

    with django_db_blocker.unblock():
        with tenant_context(world.tenant):  # numbers given out are given back afterwards
            counters = dict(DocumentCounter.objects.values_list("series", "last_value"))
        yield world, make
        with tenant_context(world.tenant), audit_maintenance():
            DocumentCounter.objects.exclude(series__in=counters).delete()
            for series, last_value in counters.items():
                DocumentCounter.objects.filter(series=series).update(last_value=last_value)
            ids = [p.pk for p in made]
            transfers = TransferItem.objects.filter(product_id__in=ids).values("transfer_id")
            Transfer.objects.filter(pk__in=transfers).delete()
            StockMovement.objects.filter(product_id__in=ids).delete()
            StockLevel.objects.filter(product_id__in=ids).delete()
            Product.objects.filter(pk__in=ids).delete()
            AuditLog.objects.filter(action__in=["stock.adjust", "stock.set"]).filter(
                entity_id__in=[
                    str(world.store.pk),
                    str(world.other_store.pk),
                    str(world.warehouse.pk),
                ]
            ).delete()
            AuditLog.objects.filter(entity_type="transfer").delete()
        connection.set_schema_to_public()


def run_threads(world, work) -> list[BaseException]:
    """Runs `work(thread_number)` on THREADS threads, each with its own connection, released
    together by a barrier; returns the unexpected exceptions."""
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def body(number: int) -> None:
        try:
            connection.set_tenant(world.tenant)
            barrier.wait()
            work(number)
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_200_parallel_decrements_of_a_level_holding_50(committed_products):
    world, make = committed_products
    (product,) = make(1)
    with tenant_context(world.tenant):
        services.stock_adjust(
            actor=world.admin, store_id=world.store.pk, reason="FOUND",
            items=[services.AdjustItem(product.pk, None, Decimal("50"))],
        )  # fmt: skip
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def decrement(number: int) -> None:
        for _ in range(200 // THREADS + (1 if number < 200 % THREADS else 0)):
            try:
                services.stock_adjust(
                    actor=world.admin, store_id=world.store.pk, reason="DAMAGE",
                    items=[services.AdjustItem(product.pk, None, Decimal("-1"))],
                )  # fmt: skip
                result = "done"
            except ApplicationError as exc:
                result = exc.code
            with lock:
                outcomes[result] += 1

    assert run_threads(world, decrement) == []
    assert outcomes == {"done": 50, "INSUFFICIENT_STOCK": 150}
    with tenant_context(world.tenant):
        assert StockLevel.objects.get(product=product, store=world.store).quantity == 0
        decrements = StockMovement.objects.filter(product=product, delta=-1)
        assert decrements.count() == 50
        # each decrement saw the one before it: quantities after are 49, 48, … 0, once each
        assert sorted(decrements.values_list("quantity_after", flat=True)) == list(range(50))
        assert ledger_mismatches() == []


def test_a_random_mix_ends_consistent_without_deadlock(committed_products):
    world, make = committed_products
    products = make(3)
    locations = [world.store.pk, world.other_store.pk, world.warehouse.pk]
    with tenant_context(world.tenant):
        for store_id in locations:
            services.stock_adjust(
                actor=world.admin, store_id=store_id, reason="FOUND",
                items=[services.AdjustItem(p.pk, None, Decimal("20")) for p in products],
            )  # fmt: skip
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def operations(number: int) -> None:
        rng = random.Random(number)
        for _ in range(15):
            store_id = rng.choice(locations)
            chosen = rng.sample(products, rng.randint(1, 3))  # random order: the locks sort
            kind = rng.choice(["adjust", "set", "transfer", "transfer", "act"])
            try:
                if kind == "adjust":
                    services.stock_adjust(
                        actor=world.admin, store_id=store_id, reason="CORRECTION",
                        items=[services.AdjustItem(p.pk, None, Decimal(rng.randint(-6, 5) or 1))
                               for p in chosen],
                    )  # fmt: skip
                elif kind == "set":
                    services.stock_set(
                        actor=world.admin, store_id=store_id,
                        items=[services.SetItem(p.pk, None, Decimal(rng.randint(0, 25)))
                               for p in chosen],
                    )  # fmt: skip
                elif kind == "transfer":
                    to = rng.choice([s for s in locations if s != store_id])
                    transfer = services.transfer_create(
                        actor=world.admin, from_store_id=store_id, to_store_id=to,
                        items=[services.TransferLine(p.pk, None, Decimal(rng.randint(1, 4)))
                               for p in chosen],
                    )  # fmt: skip
                    services.transfer_ship(actor=world.admin, transfer_id=transfer.pk)
                else:
                    transfer = Transfer.objects.order_by("?").first()
                    if transfer is None:
                        continue
                    action = rng.choice(
                        [
                            services.transfer_receive,
                            services.transfer_cancel,
                            services.transfer_ship,
                        ]
                    )
                    action(actor=world.admin, transfer_id=transfer.pk)
                result = f"{kind}:done"
            except ApplicationError as exc:  # 4xx: a refusal, which changes nothing
                result = f"{kind}:{exc.code}"
            with lock:
                outcomes[result] += 1

    assert run_threads(world, operations) == []
    assert sum(outcomes.values()) >= THREADS * 14
    with tenant_context(world.tenant):
        mismatches = ledger_mismatches()
        print(
            f"\n{LEDGER_MISMATCHES.strip()}\n-> {len(mismatches)} rows; outcomes {dict(outcomes)}"
        )
        assert mismatches == []
        levels = StockLevel.objects.filter(product__in=products)
        assert all(level.quantity >= 0 for level in levels)
