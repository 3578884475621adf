"""Mutable rows are never cached per process (issue 7, defect 5).

Without Redis the authenticated user and the company settings are read per request, so a change
made by another process (simulated here by a plain UPDATE that no drop follows) shows on the very
next request. With a shared cache they are cached there, and a drop reaches every process: a
second OS process dropping the entry through Redis is seen here at once; a row read before a
change commits is never stored after that change's drop."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from apps.core.shared_cache import _DROPPED
from apps.realtime.tests.redis_server import redis_url  # noqa: F401  (fixture)
from apps.tenants.models import TenantSettings
from apps.tenants.selectors import tenant_settings_cache_clear
from apps.users.cache import auth_cache_drop, cached_auth_user
from apps.users.models import User
from conftest import bearer

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"
LOOKUP = "/api/v1/products/lookup/barcode/4006381333931"


@contextmanager
def _with_shared(backend: dict):
    with override_settings(CACHES={**settings.CACHES, "shared": backend}):
        caches["shared"].clear()  # a LocMem location outlives the override: start empty
        try:
            yield
        finally:
            caches["shared"].clear()


LOCAL_SHARED = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}


def test_without_redis_a_deactivation_elsewhere_is_seen_on_the_next_request(client, world_a):
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    assert client.get(ME, **auth).status_code == 200  # would have cached the user
    # another worker deactivates the user: its cache drop cannot reach this process
    User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
    response = client.get(ME, **auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_without_redis_a_settings_change_elsewhere_is_seen_on_the_next_request(client, world_a):
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("5.00"))
    first = client.get(LOOKUP, **auth)
    assert first.status_code == 200
    assert first.json()["data"]["taxRate"] == "5.00"
    # another worker changes the tax rate: its cache clear cannot reach this process
    TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("21.00"))
    assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "21.00"


def test_with_a_shared_cache_the_user_is_cached_and_a_drop_takes_effect(client, world_a):
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    with _with_shared(LOCAL_SHARED):
        assert client.get(ME, **auth).status_code == 200
        cached = caches["shared"].get(f"auth-user:{world_a.cashier.pk}")
        assert isinstance(cached, User) and cached.pk == world_a.cashier.pk
        User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
        assert client.get(ME, **auth).status_code == 200  # served from the shared cache
        auth_cache_drop([world_a.cashier.pk])  # what every service changing a user calls
        assert caches["shared"].get(f"auth-user:{world_a.cashier.pk}") == _DROPPED
        assert client.get(ME, **auth).status_code == 401


def test_a_cached_user_never_carries_the_company_settings(client, world_a):
    """The user is read with its company's settings (one query on the hot path); the copy put in
    the shared cache leaves them out, so a settings change (dropped on its own key) is seen even
    while the user stays cached."""
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("5.00"))
    with _with_shared(LOCAL_SHARED):
        assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "5.00"
        cached = caches["shared"].get(f"auth-user:{world_a.cashier.pk}")
        assert cached.tenant.pk == world_a.tenant.pk
        assert "settings" not in cached.tenant._state.fields_cache
        TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("21.00"))
        tenant_settings_cache_clear(tenant_id=world_a.tenant.pk)  # what the settings service does
        assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "21.00"
        assert caches["shared"].get(f"auth-user:{world_a.cashier.pk}").pk == world_a.cashier.pk


def test_a_row_read_before_a_drop_is_not_stored_after_it(world_a):
    user_id = world_a.cashier.pk

    def load_then_someone_changes_the_user():
        row = User.objects.select_related("tenant").get(pk=user_id)
        auth_cache_drop([user_id])  # another process changes the user and commits now
        return row

    with _with_shared(LOCAL_SHARED):
        assert cached_auth_user(user_id, load_then_someone_changes_the_user).pk == user_id
        assert caches["shared"].get(f"auth-user:{user_id}") == _DROPPED  # not the old row
        # while the marker lives, every read goes to the database
        calls = []
        cached_auth_user(user_id, lambda: calls.append(1) or world_a.cashier)
        cached_auth_user(user_id, lambda: calls.append(1) or world_a.cashier)
        assert calls == [1, 1]


@pytest.mark.slow  # another process (a server, a browser, Redis)
def test_with_redis_a_drop_in_another_process_reaches_this_one(client, world_a, redis_url):  # noqa: F811
    prefix = f"mipos-test-{uuid.uuid4().hex[:8]}"
    backend = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": f"{prefix}:shared",
    }
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    key = f"auth-user:{world_a.cashier.pk}"
    # not _with_shared: clearing a Redis cache flushes the whole database, others' keys too
    with override_settings(CACHES={**settings.CACHES, "shared": backend}):
        try:
            assert client.get(ME, **auth).status_code == 200
            assert caches["shared"].get(key).pk == world_a.cashier.pk
            User.objects.filter(pk=world_a.cashier.pk).update(is_active=False)
            assert client.get(ME, **auth).status_code == 200  # cached
            dropper = (
                "import django; django.setup();"
                "from apps.users.cache import auth_cache_drop;"
                f"auth_cache_drop(['{world_a.cashier.pk}'])"
            )
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "mipos.settings.test",
                "REDIS_URL": redis_url,
                "CACHE_PREFIX": prefix,
            }
            result = subprocess.run(
                [sys.executable, "-c", dropper],
                env=env,
                cwd=Path(settings.BASE_DIR),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            assert caches["shared"].get(key) == _DROPPED
            assert client.get(ME, **auth).status_code == 401
        finally:
            caches["shared"].delete(key)


def test_the_user_and_the_company_settings_come_in_one_read(client, world_a, monkeypatch):
    """A signed-in request reads its user and its company's settings from the shared cache in
    one round trip (a MGET), and takes those settings from what it read itself: the next
    request reads again, so a change between them shows at once."""
    auth = {"HTTP_AUTHORIZATION": bearer(world_a.cashier)}
    TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("5.00"))
    with _with_shared(LOCAL_SHARED):
        assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "5.00"  # fills both
        shared = caches["shared"]
        reads: list[tuple[str, list[str]]] = []
        get, get_many = shared.get, shared.get_many
        inside = []  # LocMem's get_many calls get per key: count the call made, not those

        def counted_get(key, *args, **kwargs):
            if not inside:
                reads.append(("get", [key]))
            return get(key, *args, **kwargs)

        def counted_get_many(keys, *args, **kwargs):
            reads.append(("get_many", list(keys)))
            inside.append(1)
            try:
                return get_many(keys, *args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(shared, "get", counted_get)
        monkeypatch.setattr(shared, "get_many", counted_get_many)
        assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "5.00"
        assert reads == [
            (
                "get_many",
                [f"auth-user:{world_a.cashier.pk}", f"tenant-settings:{world_a.tenant.pk}"],
            )
        ]
        TenantSettings.objects.filter(tenant=world_a.tenant).update(tax_rate=Decimal("21.00"))
        tenant_settings_cache_clear(tenant_id=world_a.tenant.pk)
        assert client.get(LOOKUP, **auth).json()["data"]["taxRate"] == "21.00"
