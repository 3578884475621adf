"""Sales, returns and payments keep the currency (and returns the pricing mode) they were made in;
the subtotal of a tax-inclusive sale becomes what its identity says it is (issue 25).

Existing rows take the company's currency as it is now (the only record there is), and an
inclusive sale's subtotal becomes the sum of its lines before discounts, tax included:
total − rounding + discounts (it was stored as total + discounts − tax, a mix of both modes)."""

from django.db import migrations, models

COMPANY_CURRENCY = (
    "COALESCE((SELECT s.currency FROM public.tenants_tenantsettings s"
    " JOIN public.tenants_tenant t ON t.id = s.tenant_id"
    " WHERE t.schema_name = current_schema()), 'USD')"
)


class Migration(migrations.Migration):
    dependencies = [("sales", "0005_line_sold_at_store_sale_product_ids")]

    operations = [
        migrations.AddField(
            model_name="sale",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="payment",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="salereturn",
            name="currency",
            field=models.CharField(default="USD", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="salereturn",
            name="prices_include_tax",
            field=models.BooleanField(default=False),
        ),
        migrations.RunSQL(
            [
                f"UPDATE sales_sale SET currency = {COMPANY_CURRENCY}",
                f"UPDATE sales_payment SET currency = {COMPANY_CURRENCY}",
                "UPDATE sales_salereturn r SET currency = s.currency,"
                " prices_include_tax = s.prices_include_tax FROM sales_sale s WHERE s.id = r.sale_id",
                "UPDATE sales_sale SET subtotal = total - rounding_adjustment + discount_total"
                " WHERE prices_include_tax",
            ],
            # going back: the inclusive subtotal as it was stored before
            [
                "UPDATE sales_sale SET subtotal = total - rounding_adjustment + discount_total"
                " - tax_total WHERE prices_include_tax"
            ],
        ),
    ]
