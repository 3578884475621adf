"""Suppliers' phones are stored in E.164 like customers' (issue 25): existing ones are normalised
with the company's country as it is now; a number that is not valid there keeps its text
(suppliers' phones are not unique, so no duplicate can stop this)."""

from django.db import migrations

from apps.core.phones import phone_e164

COMPANY_COUNTRY = (
    "SELECT s.country FROM public.tenants_tenantsettings s"
    " JOIN public.tenants_tenant t ON t.id = s.tenant_id"
    " WHERE t.schema_name = current_schema()"
)


def phones_normalise(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(COMPANY_COUNTRY)
        found = cursor.fetchone()
        country = (found[0] if found else "") or ""
        cursor.execute("SELECT id, phone FROM purchasing_supplier WHERE phone <> ''")
        updates = [
            (e164, pk)
            for pk, phone in cursor.fetchall()
            if (e164 := phone_e164(phone, country=country)) is not None and e164 != phone
        ]
        cursor.executemany("UPDATE purchasing_supplier SET phone = %s WHERE id = %s", updates)


class Migration(migrations.Migration):
    dependencies = [
        ("purchasing", "0002_document_currency"),
        ("tenants", "0008_settings_country_max_discount"),
    ]

    operations = [migrations.RunPython(phones_normalise, migrations.RunPython.noop)]
