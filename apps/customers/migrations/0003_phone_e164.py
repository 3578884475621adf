"""Customers' phones are stored in E.164 (issue 25): "+351 912 345 678" and "912 345 678" typed in
a Portuguese shop are one customer. Uniqueness moves from the phone's digits (which told those two
apart) to the stored E.164 text.

Existing rows are normalised with the company's country as it is now (a number without "+CC" in a
company without a country, or not a valid number, keeps its text). Rows that become the same number
do not break the migration: a live row already in E.164 keeps it, then the oldest takes it; a later
one keeps its text and its notes say which customer has the number (merge or correct it by hand).
Deleted rows are normalised without a check (uniqueness is among live customers)."""

from django.db import migrations, models

from apps.core.phones import phone_e164

COMPANY_COUNTRY = (
    "SELECT s.country FROM public.tenants_tenantsettings s"
    " JOIN public.tenants_tenant t ON t.id = s.tenant_id"
    " WHERE t.schema_name = current_schema()"
)


def duplicate_note(phone: str, normalised: str, holder: str) -> str:
    return (
        f"Phone {phone} is {normalised}, the number of customer {holder}: kept as typed when"
        " phones became E.164 (issue 25)."
    )


def phones_normalise(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(COMPANY_COUNTRY)
        found = cursor.fetchone()
        country = (found[0] if found else "") or ""
        cursor.execute(
            "SELECT id, code, phone, deleted_at IS NULL, notes FROM customers_customer"
            " WHERE phone <> '' ORDER BY created_at, id"
        )
        rows = [(*row, phone_e164(row[2], country=country)) for row in cursor.fetchall()]
        # live rows already in E.164 keep their number (they were unique by digits)
        holders = {e164: code for _, code, phone, live, _, e164 in rows if live and e164 == phone}
        updates, notes = [], []
        for pk, code, phone, live, notes_now, e164 in rows:
            if e164 is None or e164 == phone:
                continue
            if live and e164 in holders:
                note = duplicate_note(phone, e164, holders[e164])
                if note not in notes_now:  # a second run notes nothing more
                    notes.append((note, pk))
                continue
            if live:
                holders[e164] = code
            updates.append((e164, pk))
        cursor.executemany("UPDATE customers_customer SET phone = %s WHERE id = %s", updates)
        cursor.executemany(
            "UPDATE customers_customer SET notes = CASE WHEN notes = '' THEN %s"
            " ELSE notes || E'\\n' || %s END WHERE id = %s",
            [(note, note, pk) for note, pk in notes],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_ledgers_immutable"),
        ("tenants", "0008_settings_country_max_discount"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="customer",
            name="customer_phone_uniq",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="phone_digits",
        ),
        migrations.RunPython(phones_normalise, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                models.F("phone"),
                condition=models.Q(
                    ("deleted_at__isnull", True), models.Q(("phone", ""), _negated=True)
                ),
                name="customer_phone_uniq",
            ),
        ),
    ]
