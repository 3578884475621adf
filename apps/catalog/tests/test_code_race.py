"""A product and a variant created at the same moment with the same SKU, on two real connections:
both writers queue on the per-code advisory lock (held first by the test, and seen from its own
connection in `pg_locks` — no sleeping), then exactly one wins and the other gets 409 — the two
tables' own unique indexes could not catch this — and the loser changed nothing."""

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

WAIT = 30  # seconds: an upper bound for what should happen at once, never a delay
ACTIONS = {"product": "product.create", "variant": "product.variant.create"}


def _waiting_for(lock_name: str) -> int:
    """How many backends wait for the transaction-level advisory lock `hashtext(lock_name)`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND classid = ((hashtext(%s)::bigint >> 32) & 4294967295)::oid
              AND objid = (hashtext(%s)::bigint & 4294967295)::oid
            """,
            [lock_name, lock_name],
        )
        return cursor.fetchone()[0]


def _catalogue(world) -> dict:
    with tenant_context(world.tenant):
        return {
            "products": sorted(Product.objects.values_list("sku", flat=True)),
            "variants": sorted(ProductVariant.objects.values_list("sku", flat=True)),
        }


def _race_audit() -> list[str]:
    return list(
        AuditLog.objects.filter(
            action__in=ACTIONS.values(), after__sku__iexact="race-1"
        ).values_list("action", flat=True)
    )


def test_same_sku_for_a_product_and_a_variant_at_once(worlds, django_db_blocker):
    world = worlds["a"]
    outcomes: dict[str, str] = {}
    finished = {kind: threading.Event() for kind in ("product", "variant")}

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
            finished[kind].set()

    with django_db_blocker.unblock():
        before = _catalogue(world)
        assert _race_audit() == []
        threads = [threading.Thread(target=create, args=(kind,)) for kind in ("product", "variant")]
        try:
            with tenant_context(world.tenant), transaction.atomic():
                services.codes_lock(["RACE-1"])  # held by this connection until commit
                lock_name = f"catalog:{connection.schema_name}:RACE-1"
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + WAIT
                while (waiting := _waiting_for(lock_name)) < 2 and time.monotonic() < deadline:
                    pass  # each poll is a round trip to PostgreSQL; bounded by the deadline
                assert waiting == 2  # both writers queue on the code lock
                assert outcomes == {}  # and neither has finished
            assert all(done.wait(WAIT) for done in finished.values())
            assert sorted(outcomes.values()) == ["conflict", "created"]
            (winner,) = (kind for kind, outcome in outcomes.items() if outcome == "created")
            after = _catalogue(world)
            if winner == "product":
                assert after == {**before, "products": sorted([*before["products"], "RACE-1"])}
            else:
                assert after == {**before, "variants": sorted([*before["variants"], "race-1"])}
            assert _race_audit() == [ACTIONS[winner]]  # one write, one audit row: the winner's
        finally:
            with tenant_context(world.tenant):
                ProductVariant.objects.filter(sku__iexact="race-1").delete()
                Product.objects.filter(sku__iexact="race-1").delete()
            with audit_maintenance():
                AuditLog.objects.filter(
                    action__in=ACTIONS.values(), after__sku__iexact="race-1"
                ).delete()
            for thread in threads:
                if thread.ident is not None:  # started
                    thread.join(WAIT)
            connection.set_schema_to_public()
