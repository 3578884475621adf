from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from apps.audit import services
        from apps.core import db, operator

        # what core calls (apps.core.hooks): the audited-row helpers' audit row, and the trail of
        # a platform operator's request inside a company (looked up at each call: a test replaces
        # it with one that fails)
        db.audit_writer.register(services.audit_record)
        operator.operator_access_recorder.register(
            lambda **kwargs: services.operator_access_record(**kwargs)
        )
