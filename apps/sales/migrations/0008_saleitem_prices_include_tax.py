"""A sale's lines carry its pricing mode, as they carry its time and store: the sales and tax
reports split a year of lines into amounts without tax without joining each line to its sale."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0007_salereturnitem_tax_amount")]

    operations = [
        migrations.AddField(
            model_name="saleitem",
            name="prices_include_tax",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunSQL(
            "UPDATE sales_saleitem i SET prices_include_tax = true FROM sales_sale s"
            " WHERE s.id = i.sale_id AND s.prices_include_tax",
            migrations.RunSQL.noop,
        ),
    ]
