from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_auditlog_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('mipos.audit_maintenance', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_auditlog_immutable
    BEFORE UPDATE OR DELETE ON audit_auditlog
    FOR EACH ROW EXECUTE FUNCTION audit_auditlog_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditlog_immutable ON audit_auditlog;
DROP FUNCTION IF EXISTS audit_auditlog_immutable();
"""


class Migration(migrations.Migration):
    """Audit rows can be inserted, never updated or deleted, whatever the path (API, admin, ORM,
    SQL). Only a transaction that sets `mipos.audit_maintenance` (tests' own clean-up) may delete."""

    dependencies = [("audit", "0002_remove_auditlog_actor_email")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
