"""Expenses keep the currency they were recorded in (issue 25); existing rows take the
company's currency as it is now."""

from django.db import migrations, models

COMPANY_CURRENCY = (
    "COALESCE((SELECT s.currency FROM public.tenants_tenantsettings s"
    " JOIN public.tenants_tenant t ON t.id = s.tenant_id"
    " WHERE t.schema_name = current_schema()), 'USD')"
)


class Migration(migrations.Migration):
    dependencies = [("expenses", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="expense",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.RunSQL(
            [f"UPDATE expenses_expense SET currency = {COMPANY_CURRENCY}"],
            migrations.RunSQL.noop,
        ),
    ]
