from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "apps.purchasing"
    label = "purchasing"
    verbose_name = "Suppliers and purchasing"

    def ready(self) -> None:
        from apps.purchasing.models import PurchaseOrder
        from apps.tenants.documents import money_documents_register

        # documents keep the currency they were made in: the company's may not change under them
        money_documents_register(lambda: PurchaseOrder.objects.exists())
