"""A sale stores its gross and discounts without tax (pricing.CartTotals.untaxed_gross and
untaxed_discounts), so the sales report sums sales instead of every line of the period.
Existing sales get them from their lines, by the same definitions: with prices that include
tax, each line's gross (its total + its discount) less the tax that gross holds at the line's
rate, and its discount less the tax it held; otherwise the gross and discount as stored."""

from decimal import Decimal

from django.db import migrations, models

HELD = "ROUND((i.line_total + i.discount_amount) * i.tax_rate / (100 + i.tax_rate), 2)"
FROM_LINES = f"""-- built from constants only  # noqa: S608
UPDATE sales_sale s SET untaxed_gross = l.gross, untaxed_discounts = l.discounts
FROM (
    SELECT i.sale_id,
           SUM(CASE WHEN i.prices_include_tax THEN i.line_total + i.discount_amount - {HELD}
                    ELSE i.line_total - i.tax_amount + i.discount_amount END) AS gross,
           SUM(CASE WHEN i.prices_include_tax THEN i.discount_amount - ({HELD} - i.tax_amount)
                    ELSE i.discount_amount END) AS discounts
    FROM sales_saleitem i GROUP BY i.sale_id
) l
WHERE l.sale_id = s.id
"""


class Migration(migrations.Migration):
    dependencies = [("sales", "0008_saleitem_prices_include_tax")]

    operations = [
        migrations.AddField(
            model_name="sale",
            name="untaxed_gross",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0.00"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="sale",
            name="untaxed_discounts",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0.00"), max_digits=14
            ),
        ),
        migrations.RunSQL(FROM_LINES, migrations.RunSQL.noop),
    ]
