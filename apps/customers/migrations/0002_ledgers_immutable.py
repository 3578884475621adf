from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION customers_ledger_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('mipos.audit_maintenance', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are immutable (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER customers_customerledgerentry_immutable
    BEFORE UPDATE OR DELETE ON customers_customerledgerentry
    FOR EACH ROW EXECUTE FUNCTION customers_ledger_immutable();
CREATE TRIGGER customers_loyaltyentry_immutable
    BEFORE UPDATE OR DELETE ON customers_loyaltyentry
    FOR EACH ROW EXECUTE FUNCTION customers_ledger_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS customers_customerledgerentry_immutable ON customers_customerledgerentry;
DROP TRIGGER IF EXISTS customers_loyaltyentry_immutable ON customers_loyaltyentry;
DROP FUNCTION IF EXISTS customers_ledger_immutable();
"""


class Migration(migrations.Migration):
    """The balance ledger and the loyalty history are append-only, whatever the path (API, ORM,
    SQL); only a transaction that sets `mipos.audit_maintenance` may delete (tests' clean-up)."""

    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
