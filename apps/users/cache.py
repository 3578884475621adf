"""The authenticated user, cached in the shared cache (apps/core/shared_cache.py: the rules for
caching mutable rows and their invalidation): read per request without Redis."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from django.conf import settings

from apps.core.shared_cache import (
    company_settings_key,
    shared_cache,
    shared_drop,
    shared_get_or_load,
)
from apps.users.models import User
from apps.users.selectors import auth_user_get

# --- the authenticated user ---------------------------------------------------------------------


def _key(user_id) -> str:
    return f"auth-user:{user_id}"


def _user_for_cache(user):
    """A copy of `user` without the company settings loaded with it: those are cached (and
    dropped) on their own, so a cached user never carries old settings."""
    tenant = user._state.fields_cache.get("tenant")
    if tenant is None or "settings" not in tenant._state.fields_cache:
        return user
    user, tenant = copy.copy(user), copy.copy(tenant)  # own field caches (Model.__getstate__)
    del tenant._state.fields_cache["settings"]
    user.tenant = tenant
    return user


def cached_auth_user(user_id, load, *, tenant_id=None):
    """The user `user_id` (tenant loaded), from the shared cache or from `load()`; with
    `tenant_id` (the routed company's), its settings are read in the same round trip for the
    request's later use (apps.core.shared_cache: read ahead)."""
    return shared_get_or_load(
        _key(user_id),
        load,
        settings.AUTH_USER_CACHE_SECONDS,
        for_cache=_user_for_cache,
        prefetch=[company_settings_key(tenant_id)] if tenant_id is not None else (),
    )


def auth_cache_drop(user_ids: Iterable) -> None:
    """Call inside the transaction that changes these users (or their company)."""
    shared_drop(
        [_key(user_id) for user_id in user_ids],
        marker_seconds=settings.AUTH_USER_CACHE_SECONDS,
    )


def auth_cache_drop_tenant(tenant_id) -> None:
    if shared_cache() is None:
        return  # nothing is cached: spare the query
    auth_cache_drop(User.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True))


def auth_user(user_id):
    """The signed-in user `user_id` as DRF's authentication loads it (company, its settings and
    plan in the same query), from the shared cache or the database; None when there is none."""
    return cached_auth_user(user_id, lambda: auth_user_get(user_id=user_id))
