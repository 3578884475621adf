from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm, once per database and in the public schema, so every tenant schema (whose
    search_path ends with public) sees gin_trgm_ops for its catalogue search indexes."""

    dependencies = [("tenants", "0002_tenant_address_tenant_email_tenant_legal_name_and_more")]

    operations = [
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public",
            migrations.RunSQL.noop,
        )
    ]
