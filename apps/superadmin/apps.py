from django.apps import AppConfig


class SuperAdminConfig(AppConfig):
    """The platform operators' API (SUPER_ADMIN): companies, users across companies, stats.
    No models of its own: it calls the tenants and users services."""

    name = "apps.superadmin"
    label = "superadmin"
    verbose_name = "Super admin"
