from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.core.shared_cache import company_settings_key, shared_drop, shared_get_or_load
from apps.tenants.limits import LIMIT_FIELDS, PlanResource, resource_usage, tenant_package
from apps.tenants.models import Package, PlanFeature, Tenant, TenantSettings


def tenant_list() -> QuerySet[Tenant]:
    return (
        Tenant.objects.filter(is_template=False)
        .select_related("package")
        .prefetch_related("domains")
    )


def tenant_get(*, tenant_id) -> Tenant:
    tenant = tenant_list().filter(pk=tenant_id).first()
    if tenant is None:
        raise NotFound("Company not found.")
    return tenant


# Company settings are mutable: cached only in the shared cache (Redis), where the settings
# service's drop on commit reaches every process; read per request without Redis.
TENANT_SETTINGS_CACHE_SECONDS = 300


def tenant_settings_cached(*, tenant: Tenant):
    """The company's settings (hot path: every scan and checkout): from the shared cache when
    there is one; else those read with `tenant` in this request (the request's user is read with
    its company's settings), else read now."""
    loaded = tenant._state.fields_cache.get("settings")
    return shared_get_or_load(
        company_settings_key(tenant.pk),
        (lambda: loaded)
        if loaded is not None
        else (lambda: TenantSettings.objects.get_or_create(tenant_id=tenant.pk)[0]),
        TENANT_SETTINGS_CACHE_SECONDS,
    )


def tenant_settings_cache_clear(*, tenant_id) -> None:
    """Call inside (or on commit of) the transaction that changes the settings."""
    shared_drop([company_settings_key(tenant_id)], marker_seconds=30)


def company_currency() -> str:
    """The currency of the company whose schema the connection is on: what a new document
    (sale, order, expense) is recorded in, and keeps."""
    from django.db import connection

    return tenant_settings_cached(tenant=connection.tenant).currency


def company_time_zone(tenant: Tenant) -> str:
    """The company's time zone: where its days begin and end (period filters, day figures)."""
    return tenant_settings_cached(tenant=tenant).timezone or "UTC"


def package_list():
    from django.db.models import Count

    return Package.objects.annotate(
        tenant_count=Count("tenants", filter=Q(tenants__is_template=False))
    )


def package_get(*, package_id):
    package = package_list().filter(pk=package_id).first()
    if package is None:
        raise NotFound("Package not found.")
    return package


def subscription_get(*, tenant: Tenant) -> dict:
    """The company's plan, its limits and what the company uses of each (in its schema)."""
    package = tenant_package(tenant)
    return {
        "package": package,
        "limits": {
            resource.name.lower(): getattr(package, field) if package else None
            for resource, field in LIMIT_FIELDS.items()
        },
        "usage": {
            resource.name.lower(): resource_usage(resource, tenant=tenant)
            for resource in PlanResource
        },
        "features": sorted(package.features) if package else sorted(PlanFeature.values),
        "requests_per_minute": package.requests_per_minute if package else None,
    }
