"""Companies: settings changed behind the services' back."""

from __future__ import annotations

from django.core.cache import caches

from apps.tenants.models import TenantSettings


def company(world, **values) -> None:
    """Changes the company's settings behind the services' back (and drops the copies they
    would read: the shared cache, the settings loaded with the world's tenant)."""
    TenantSettings.objects.filter(tenant=world.tenant).update(**values)
    caches["shared"].clear()
    world.tenant._state.fields_cache.pop("settings", None)
