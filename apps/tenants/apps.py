from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    label = "tenants"
    verbose_name = "Companies and plans"

    def ready(self) -> None:
        from apps.core import filters, plans
        from apps.tenants.limits import plan_limit_guard
        from apps.tenants.selectors import company_time_zone
        from apps.tenants.usage import tenant_usage_recount

        # what the layers below tenants call (apps.core.hooks)
        plans.plan_limit_guard_hook.register(plan_limit_guard)
        filters.company_time_zone.register(company_time_zone)
        plans.usage_recount_hook.register(tenant_usage_recount)
