"""Checks that used to run before any lock, raced on two real connections: two category moves
that would close a cycle together, and a brand deleted while a product is being attached to it.
Whatever the interleaving, the outcome is consistent."""

from __future__ import annotations

import threading

from django.db import connections
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog import services
from apps.catalog.models import Brand, Category, Product
from apps.core.errors import ApplicationError


def _race(tenant, calls: dict) -> dict[str, str]:
    """Runs each call on its own connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, str] = {}

    def run(name: str, call) -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                call()
            outcomes[name] = "done"
        except ApplicationError as exc:
            outcomes[name] = exc.code
        except Exception as exc:
            outcomes[name] = type(exc).__name__
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _cleanup(tenant, *, categories=(), brands=(), products=()) -> None:
    with tenant_context(tenant), audit_maintenance():
        ids = [str(pk) for pk in (*categories, *brands, *products)]
        AuditLog.objects.filter(entity_id__in=ids).delete()
        Product.objects.filter(pk__in=products).delete()
        Category.objects.filter(pk__in=categories).update(parent=None)
        Category.objects.filter(pk__in=categories).delete()
        Brand.objects.filter(pk__in=brands).delete()


def test_two_moves_cannot_build_a_cycle_together(worlds, django_db_blocker):
    world = worlds["a"]
    with django_db_blocker.unblock(), tenant_context(world.tenant):
        left = services.category_create(actor=world.admin, name="Race left")
        right = services.category_create(actor=world.admin, name="Race right")
    try:
        with django_db_blocker.unblock():
            outcomes = _race(
                world.tenant,
                {
                    "left-under-right": lambda: services.category_update(
                        actor=world.admin, category_id=left.pk, parent_id=right.pk
                    ),
                    "right-under-left": lambda: services.category_update(
                        actor=world.admin, category_id=right.pk, parent_id=left.pk
                    ),
                },
            )
            assert sorted(outcomes.values()) == ["CATEGORY_CYCLE", "done"]
            with tenant_context(world.tenant):
                parents = dict(
                    Category.objects.filter(pk__in=[left.pk, right.pk]).values_list(
                        "pk", "parent_id"
                    )
                )
            # exactly one moved; the tree has no cycle
            assert sorted([parents[left.pk] is None, parents[right.pk] is None]) == [False, True]
    finally:
        with django_db_blocker.unblock():
            _cleanup(world.tenant, categories=[left.pk, right.pk])


def test_a_brand_cannot_be_deleted_while_a_product_is_attached_to_it(worlds, django_db_blocker):
    world = worlds["a"]
    with django_db_blocker.unblock(), tenant_context(world.tenant):
        brand = services.brand_create(actor=world.admin, name="Race brand")
    created: list = []

    def create_product() -> None:
        created.append(
            services.product_create(
                actor=world.admin, name="Race product", sku="RACE-BRAND-1", brand_id=brand.pk
            ).pk
        )

    try:
        with django_db_blocker.unblock():
            outcomes = _race(
                world.tenant,
                {
                    "delete": lambda: services.brand_delete(actor=world.admin, brand_id=brand.pk),
                    "create": create_product,
                },
            )
            # Either the product came first (the delete is refused as in use) or the delete did
            # (the product is refused: unknown brand). Never both.
            assert outcomes in (
                {"delete": "IN_USE", "create": "done"},
                {"delete": "done", "create": "VALIDATION_ERROR"},
            ), outcomes
            with tenant_context(world.tenant):
                dangling = Product.objects.alive().filter(
                    brand_id=brand.pk, brand__deleted_at__isnull=False
                )
                assert not dangling.exists()
    finally:
        with django_db_blocker.unblock():
            _cleanup(world.tenant, brands=[brand.pk], products=created)
