from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.tenants.models import Tenant

ZERO = Decimal("0.00")


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.filter(is_template=False).prefetch_related("domains")


def tenant_get(*, tenant_id) -> Tenant:
    tenant = tenant_list().filter(pk=tenant_id).first()
    if tenant is None:
        raise NotFound("Company not found.")
    return tenant


def tenant_dashboard(*, tenant: Tenant) -> dict:
    """The company dashboard. Sales, stock, customers and transfers arrive with their modules;
    the fields are fixed now so clients can rely on them."""
    from apps.stores.models import Store, StoreKind
    from apps.users.models import User

    stores = Store.objects.alive()
    return {
        "today": {"sales_count": 0, "sales_total": ZERO, "average_sale": ZERO},
        "month": {"sales_count": 0, "sales_total": ZERO, "average_sale": ZERO},
        "stores": stores.filter(kind=StoreKind.RETAIL).count(),
        "warehouses": stores.filter(kind=StoreKind.WAREHOUSE).count(),
        "active_users": User.objects.filter(
            tenant=tenant, is_active=True, deleted_at__isnull=True
        ).count(),
        "products": 0,
        "customers": 0,
        "stock_value": ZERO,
        "low_stock_count": 0,
        "open_transfers": 0,
        "customer_dues": ZERO,
    }


def _settings_cache_key(tenant_id) -> str:
    return f"tenant-settings:{tenant_id}"


def tenant_settings_cached(*, tenant: Tenant):
    """The company's settings, cached (hot path: every scan and checkout); the settings
    service drops the entry when they change."""
    from django.core.cache import cache

    from apps.tenants.models import TenantSettings

    key = _settings_cache_key(tenant.pk)
    settings = cache.get(key)
    if settings is None:
        settings = TenantSettings.objects.get_or_create(tenant=tenant)[0]
        cache.set(key, settings, 300)
    return settings


def tenant_settings_cache_clear(*, tenant_id) -> None:
    from django.core.cache import cache

    cache.delete(_settings_cache_key(tenant_id))
