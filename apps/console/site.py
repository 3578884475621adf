"""The console's admin site: its name and version on every page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from apps.console.login import ConsoleLoginForm


class ConsoleSite(admin.AdminSite):
    site_header = "MIPOS platform console"
    site_title = "MIPOS platform console"
    index_title = "Dashboard"
    enable_nav_sidebar = True
    login_form = ConsoleLoginForm  # the API login's budget, lockout and audit; super admins only

    def each_context(self, request):
        context = super().each_context(request)
        context["mipos_version"] = settings.MIPOS_VERSION
        return context
