from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION inventory_stockmovement_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('mipos.audit_maintenance', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'stock movements are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_stockmovement_immutable
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS inventory_stockmovement_immutable ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_stockmovement_immutable();
"""


class Migration(migrations.Migration):
    """The stock ledger is append-only, whatever the path (API, admin, ORM, SQL), like the audit
    log; only a transaction that sets `mipos.audit_maintenance` may delete (tests' clean-up)."""

    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
