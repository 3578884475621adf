from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Developer tools of the platform: the structured request and error logs, kept in a bounded
    public-schema table (`LogEntry`) and listed at `GET /api/v1/super-admin/logs`."""

    name = "apps.devtools"
    label = "devtools"
    verbose_name = "Dev tools"
