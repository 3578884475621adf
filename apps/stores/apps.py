from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "apps.stores"
    label = "stores"
    verbose_name = "Stores and warehouses"

    def ready(self) -> None:
        from apps.core.plans import PlanResource, usage_counter_register
        from apps.stores.models import StoreKind
        from apps.stores.selectors import store_count

        usage_counter_register(PlanResource.STORES, lambda tenant: store_count(StoreKind.RETAIL))
        usage_counter_register(
            PlanResource.WAREHOUSES, lambda tenant: store_count(StoreKind.WAREHOUSE)
        )
