from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    label = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from apps.core import filters, plans
        from apps.tenants.limits import plan_limit_guard
        from apps.tenants.selectors import company_time_zone

        # what the layers below tenants call (apps.core.hooks)
        plans.plan_limit_guard_hook.register(plan_limit_guard)
        filters.company_time_zone.register(company_time_zone)
