from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    """The platform console: the Django admin as the operators' tool (dashboard, company pages,
    operator access). The top layer: it reads every app's selectors and calls their services."""

    default = True
    name = "apps.console"
    label = "console"
    verbose_name = "Platform console"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the console's site as `admin.site` (every app's admin.py
    registers on it)."""

    default = False  # installed by its path in settings; `apps.console` is ConsoleConfig
    default_site = "apps.console.site.ConsoleSite"
