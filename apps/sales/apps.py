from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "apps.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from apps.core.plans import PlanResource, usage_counter_register
        from apps.sales.models import Sale
        from apps.sales.selectors import sales_this_month_count
        from apps.tenants.documents import money_documents_register

        # documents keep the currency they were made in: the company's may not change under them
        money_documents_register(lambda: Sale.objects.exists())
        usage_counter_register(PlanResource.SALES_PER_MONTH, sales_this_month_count)
