"""Purchase orders and supplier payments keep the currency they were made in (issue 25);
existing rows take the company's currency as it is now."""

from django.db import migrations, models

COMPANY_CURRENCY = (
    "COALESCE((SELECT s.currency FROM public.tenants_tenantsettings s"
    " JOIN public.tenants_tenant t ON t.id = s.tenant_id"
    " WHERE t.schema_name = current_schema()), 'USD')"
)


class Migration(migrations.Migration):
    dependencies = [("purchasing", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="purchaseorder",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="supplierpayment",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.RunSQL(
            [
                f"UPDATE purchasing_purchaseorder SET currency = {COMPANY_CURRENCY}",
                "UPDATE purchasing_supplierpayment p SET currency = o.currency"
                " FROM purchasing_purchaseorder o WHERE o.id = p.order_id",
            ],
            migrations.RunSQL.noop,
        ),
    ]
