"""Request rate limits as fixed-window counters: one atomic increment per request.

DRF's SimpleRateThrottle keeps every request time of the window in one cache entry and
re-pickles that list on each request — O(rate) work per request, which dominated the hottest
endpoints at high rates. A counter per (client, window) costs O(1)."""

from __future__ import annotations

import time

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from apps.core.cache import counter_hit
from apps.core.context import current


class FixedWindowThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window_start = int(now // self.duration) * self.duration
        key = f"{self.key}:{window_start}"
        # Platform-wide counters: the default cache prefixes keys with the schema, and an
        # anonymous request on a tenant domain is routed to that schema, so every tenant domain
        # would otherwise hand out a fresh budget.
        cache = caches["platform"]
        # One round trip with Redis per request (core.cache.counter_hit)
        count = counter_hit(cache, key, self.duration + 1)
        self._wait = window_start + self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return max(1.0, getattr(self, "_wait", self.duration))


class UserThrottle(FixedWindowThrottle):
    """Per signed-in user (THROTTLE_USER), per client IP for anonymous callers (THROTTLE_ANON)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return f"throttle:user:{request.user.pk}"
        return None


class AnonThrottle(FixedWindowThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        # The client address as validated by the request middleware (DRF's get_ident takes
        # X-Forwarded-For verbatim, so any string became its own bucket).
        return f"throttle:anon:{current().ip or 'unknown'}"
