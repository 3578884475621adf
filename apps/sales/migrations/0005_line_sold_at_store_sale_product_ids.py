import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

# copies onto every existing line its sale's time and store, and onto every sale its basket
# (constraints checked at once: a deferred check still pending would stop the ALTERs after it)
BACKFILL = """
SET CONSTRAINTS ALL IMMEDIATE;
UPDATE sales_saleitem AS i SET sold_at = s.created_at, store_id = s.store_id
FROM sales_sale AS s WHERE s.id = i.sale_id;
UPDATE sales_sale AS s SET product_ids = b.ids
FROM (SELECT sale_id, array_agg(DISTINCT product_id ORDER BY product_id) AS ids
      FROM sales_saleitem GROUP BY sale_id) AS b
WHERE b.sale_id = s.id;
SET CONSTRAINTS ALL DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0004_sale_receipt_count_sale_void_receipt_count_and_more"),
        ("stores", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sale",
            name="product_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.UUIDField(), db_default=[], default=list, size=None
            ),
        ),
        migrations.AddField(
            model_name="saleitem",
            name="sold_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="saleitem",
            name="store",
            field=models.ForeignKey(
                db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="+", to="stores.store",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="saleitem",
            name="sold_at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="saleitem",
            name="store",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="+", to="stores.store",
            ),
        ),
        migrations.AddIndex(
            model_name="saleitem",
            index=django.contrib.postgres.indexes.BrinIndex(
                fields=["sold_at"], name="sale_item_sold_at_brin"
            ),
        ),
    ]
