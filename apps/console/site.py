"""The console's admin site: its name and version on every page, and the dashboard as its index."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from apps.console.login import ConsoleLoginForm


class ConsoleSite(admin.AdminSite):
    site_header = "MIPOS platform console"
    site_title = "MIPOS platform console"
    index_title = "Dashboard"
    index_template = "admin/console/dashboard.html"
    enable_nav_sidebar = True
    login_form = ConsoleLoginForm  # the API login's budget, lockout and audit; super admins only

    def each_context(self, request):
        context = super().each_context(request)
        context["mipos_version"] = settings.MIPOS_VERSION
        return context

    def index(self, request, extra_context=None):
        from apps.console.selectors import dashboard_get  # the app registry is ready by now

        return super().index(request, {"dashboard": dashboard_get(), **(extra_context or {})})
