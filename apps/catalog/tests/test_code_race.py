"""A product and a variant created at the same moment with the same SKU, on two real connections:
both writers queue on the per-code advisory lock (shown by holding it first), then exactly one
wins and the other gets 409 — the two tables' own unique indexes could not catch this."""

from __future__ import annotations

import threading
import time

from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.catalog import services
from apps.catalog.models import Product, ProductVariant, VariantTypeValue
from apps.core.errors import Conflict


def test_same_sku_for_a_product_and_a_variant_at_once(worlds, django_db_blocker):
    world = worlds["a"]
    outcomes: dict[str, str] = {}

    def create(kind: str) -> None:
        try:
            with tenant_context(world.tenant):
                if kind == "product":
                    services.product_create(actor=world.admin, name="Race", sku="RACE-1")
                else:
                    large = VariantTypeValue.objects.get(variant_type__name="Size", value="L")
                    services.variant_create(
                        actor=world.admin,
                        product_id=world.product.pk,
                        sku="race-1",
                        value_ids=[large.pk],
                    )
            outcomes[kind] = "created"
        except Conflict:
            outcomes[kind] = "conflict"
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=create, args=(kind,)) for kind in ("product", "variant")]
        try:
            with tenant_context(world.tenant), transaction.atomic():
                services.codes_lock(["RACE-1"])  # held by this connection until commit
                for thread in threads:
                    thread.start()
                time.sleep(0.5)
                assert all(thread.is_alive() for thread in threads)  # both wait for the lock
            for thread in threads:
                thread.join(timeout=10)
            assert sorted(outcomes.values()) == ["conflict", "created"]
            with tenant_context(world.tenant):
                products = Product.objects.alive().filter(sku__iexact="race-1").count()
                variants = ProductVariant.objects.alive().filter(sku__iexact="race-1").count()
            assert products + variants == 1
        finally:
            with tenant_context(world.tenant):
                ProductVariant.objects.filter(sku__iexact="race-1").delete()
                Product.objects.filter(sku__iexact="race-1").delete()
            with audit_maintenance():
                AuditLog.objects.filter(
                    action__in=["product.create", "product.variant.create"],
                    after__sku__iexact="race-1",
                ).delete()
            connection.set_schema_to_public()
