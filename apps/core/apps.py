from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import openapi  # noqa: F401  (registers OpenAPI extensions)
        from apps.core.serializers import enforce_json_types

        enforce_json_types()
