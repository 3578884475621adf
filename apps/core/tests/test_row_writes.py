"""The one write path for existing rows (`apps.core.db.row_update`): a write reads the row fresh,
saves only the fields it changes, and a write that changes nothing leaves no trace."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.catalog.models import Brand, Product
from apps.stores.models import Store
from apps.tenants.models import TenantSettings
from apps.users.models import User

pytestmark = pytest.mark.django_db


def _audit_count() -> int:
    return AuditLog.objects.count()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/stores/{store}", {"name": "{store_name}"}),
        ("/api/v1/products/{product}", {"name": "Cola 330ml", "sellPrice": "1.20"}),
        ("/api/v1/products/brands/{brand}", {"name": "Same brand"}),
        ("/api/v1/tenants/me/settings", {"currency": "USD"}),
        ("/api/v1/tenants/me", {"name": "Company ACME"}),
        ("/api/v1/users/{cashier}", {"name": "Cashier acme"}),
        ("/api/v1/users/me", {"name": "Admin acme"}),
    ],
)
def test_a_patch_that_changes_nothing_writes_nothing(
    api, world_a, path, body, django_capture_on_commit_callbacks
):
    with tenant_context(world_a.tenant):
        brand = Brand.objects.create(name="Same brand")
        TenantSettings.objects.filter(tenant=world_a.tenant).update(currency="USD")
    refs = {
        "store": world_a.store.pk,
        "store_name": world_a.store.name,
        "product": world_a.product.pk,
        "brand": brand.pk,
        "cashier": world_a.cashier.pk,
    }
    body = {key: value.format(**refs) for key, value in body.items()}
    with tenant_context(world_a.tenant):
        stamps = (
            Store.objects.get(pk=world_a.store.pk).updated_at,
            Product.objects.get(pk=world_a.product.pk).updated_at,
            Brand.objects.get(pk=brand.pk).updated_at,
        )
    users_stamp = list(User.objects.order_by("pk").values_list("updated_at", flat=True))
    audit_before = _audit_count()
    client = api(world_a.admin)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.patch(path.format(**refs), body, format="json")

    assert response.status_code == 200, response.json()
    assert _audit_count() == audit_before
    assert callbacks == []  # no event queued, no cache drop
    with tenant_context(world_a.tenant):
        assert (
            Store.objects.get(pk=world_a.store.pk).updated_at,
            Product.objects.get(pk=world_a.product.pk).updated_at,
            Brand.objects.get(pk=brand.pk).updated_at,
        ) == stamps
    assert list(User.objects.order_by("pk").values_list("updated_at", flat=True)) == users_stamp


def test_an_update_writes_only_the_changed_columns(api, world_a):
    """A concurrent change to another column of the same row survives (no whole-row save)."""
    client = api(world_a.admin)
    with tenant_context(world_a.tenant):
        Product.objects.filter(pk=world_a.product.pk).update(sell_price=Decimal("2.50"))
        with CaptureQueriesContext(connection) as queries:
            response = client.patch(
                f"/api/v1/products/{world_a.product.pk}", {"name": "Cola can"}, format="json"
            )
    assert response.status_code == 200, response.json()
    with tenant_context(world_a.tenant):
        product = Product.objects.get(pk=world_a.product.pk)
    assert (product.name, product.sell_price) == ("Cola can", Decimal("2.50"))
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"name" = ' in updates[0] and '"updated_at" = ' in updates[0]
    assert '"sell_price"' not in updates[0]
    row = AuditLog.objects.get(action="product.update", entity_id=str(world_a.product.pk))
    assert (row.before, row.after) == ({"name": "Cola 330ml"}, {"name": "Cola can"})


def test_a_stale_user_object_cannot_be_written_back(world_a):
    """`profile_update` gets the request's user, which may be a cached copy from before a
    deactivation on another worker: only the id is used, the row is read fresh."""
    from apps.users.services import profile_update, staff_deactivate

    stale = User.objects.get(pk=world_a.cashier.pk)
    staff_deactivate(actor=world_a.admin, user_id=world_a.cashier.pk)
    revoked = User.objects.get(pk=world_a.cashier.pk)
    assert (revoked.is_active, revoked.token_version) == (False, stale.token_version + 1)

    profile_update(actor=stale, name="Renamed")

    fresh = User.objects.get(pk=world_a.cashier.pk)
    assert (fresh.name, fresh.is_active, fresh.token_version) == (
        "Renamed",
        False,
        stale.token_version + 1,
    )


def test_a_stale_store_object_cannot_undo_a_rename(world_a, in_tenant):
    from apps.stores.services import store_update

    with in_tenant(world_a.tenant):
        Store.objects.filter(pk=world_a.store.pk).update(phone="+351 000")
        store_update(actor=world_a.admin, store_id=world_a.store.pk, address="New street 1")
        store = Store.objects.get(pk=world_a.store.pk)
    assert (store.phone, store.address) == ("+351 000", "New street 1")
