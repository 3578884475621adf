from django.apps import AppConfig


class ExpensesConfig(AppConfig):
    name = "apps.expenses"
    label = "expenses"
    verbose_name = "Expenses"

    def ready(self) -> None:
        from apps.expenses.models import Expense
        from apps.tenants.documents import money_documents_register

        # documents keep the currency they were made in: the company's may not change under them
        money_documents_register(lambda: Expense.objects.exists())
