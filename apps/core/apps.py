from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        import logging

        from apps.core.outage import DatabaseOutageLogFilter

        # one warning per database outage (apps.core.outage), not a traceback per request
        logging.getLogger("django.request").addFilter(DatabaseOutageLogFilter())
        from apps.core import openapi  # noqa: F401  (registers OpenAPI extensions)
        from apps.core.serializers import enforce_json_types

        enforce_json_types()
