from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from apps.catalog.selectors import product_count
        from apps.core.plans import PlanResource, usage_counter_register

        usage_counter_register(PlanResource.PRODUCTS, product_count)
