"""The authenticated-user cache: saves the per-request user query on the hot path (every till
scan), without weakening revocation: every service that changes a user or a company drops the
affected entries immediately and again when its transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction


def _key(user_id) -> str:
    return f"auth-user:{user_id}"


def cached_auth_user(user_id, load):
    """The user `user_id` (tenant loaded), from the cache or from `load()`."""
    seconds = settings.AUTH_USER_CACHE_SECONDS
    if seconds <= 0:
        return load()
    cache = caches["platform"]
    user = cache.get(_key(user_id))
    if user is None:
        user = load()
        if user is not None:
            cache.set(_key(user_id), user, seconds)
    return user


def auth_cache_drop(user_ids: Iterable) -> None:
    keys = [_key(user_id) for user_id in user_ids]
    if not keys:
        return
    cache = caches["platform"]
    cache.delete_many(keys)
    # and again after commit, in case a request re-cached the old row in between
    transaction.on_commit(lambda: cache.delete_many(keys))


def auth_cache_drop_tenant(tenant_id) -> None:
    from apps.users.models import User

    auth_cache_drop(User.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True))
