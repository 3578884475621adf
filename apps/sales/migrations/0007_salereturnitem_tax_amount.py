"""A return's line stores the tax its refund gives back (issue 25): the sold line's tax
prorated like the refund (`pricing.line_refund_tax`): the share of everything returned of the
line up to this return less the share of the returns before it (in the store's return order)."""

from django.db import migrations, models

PRORATED_TAX = """
UPDATE sales_salereturnitem ri SET tax_amount = shares.tax
FROM (
    SELECT ri.id,
           ROUND(si.tax_amount * running.upto / si.quantity, 2)
           - ROUND(si.tax_amount * (running.upto - ri.quantity) / si.quantity, 2) AS tax
    FROM sales_salereturnitem ri
    JOIN sales_saleitem si ON si.id = ri.sale_item_id
    JOIN (
        SELECT ri2.id, SUM(ri2.quantity) OVER (
                   PARTITION BY ri2.sale_item_id ORDER BY r.sequence
               ) AS upto
        FROM sales_salereturnitem ri2 JOIN sales_salereturn r ON r.id = ri2.sale_return_id
    ) running ON running.id = ri.id
) shares
WHERE shares.id = ri.id
"""


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_document_currency_inclusive_subtotal")]

    operations = [
        migrations.AddField(
            model_name="salereturnitem",
            name="tax_amount",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14),
            preserve_default=False,
        ),
        migrations.RunSQL(PRORATED_TAX, migrations.RunSQL.noop),
    ]
