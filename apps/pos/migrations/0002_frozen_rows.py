from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION pos_frozen_row() RETURNS trigger AS $$
BEGIN
    IF current_setting('mipos.audit_maintenance', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_TABLE_NAME = 'pos_shift' AND TG_OP = 'UPDATE' AND OLD.status = 'OPEN' THEN
        RETURN NEW;  -- an open shift is closed once; from then on it is frozen
    END IF;
    RAISE EXCEPTION '% rows are frozen (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER pos_shift_frozen
    BEFORE UPDATE OR DELETE ON pos_shift
    FOR EACH ROW EXECUTE FUNCTION pos_frozen_row();
CREATE TRIGGER pos_cashevent_frozen
    BEFORE UPDATE OR DELETE ON pos_cashevent
    FOR EACH ROW EXECUTE FUNCTION pos_frozen_row();
CREATE TRIGGER pos_zreport_frozen
    BEFORE UPDATE OR DELETE ON pos_zreport
    FOR EACH ROW EXECUTE FUNCTION pos_frozen_row();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS pos_shift_frozen ON pos_shift;
DROP TRIGGER IF EXISTS pos_cashevent_frozen ON pos_cashevent;
DROP TRIGGER IF EXISTS pos_zreport_frozen ON pos_zreport;
DROP FUNCTION IF EXISTS pos_frozen_row();
"""


class Migration(migrations.Migration):
    """The drawer's cash log is append-only, a Z report is never changed, and a closed shift is
    frozen — whatever the path (API, admin, ORM, SQL). Shifts are never deleted. Only a
    transaction that sets `mipos.audit_maintenance` may (tests' and benchmarks' clean-up)."""

    dependencies = [("pos", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
