"""The console's admin site: its name and version on every page, and the dashboard as its index."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.console.login import ConsoleLoginForm
from apps.core.admin import service_error_show
from apps.core.context import current
from apps.core.errors import ApplicationError
from apps.users.services import password_change


class ConsolePasswordChangeForm(PasswordChangeForm):
    """Django's form for the two new passwords; the current one is checked by the users' service,
    which counts a wrong one against the login's failure budget (Django's check would not)."""

    def clean_old_password(self):
        return self.cleaned_data["old_password"]


class ConsoleSite(admin.AdminSite):
    site_header = "MIPOS platform console"
    site_title = "MIPOS platform console"
    index_title = "Dashboard"
    index_template = "admin/console/dashboard.html"
    enable_nav_sidebar = True
    login_form = ConsoleLoginForm  # the API login's budget, lockout and audit; super admins only
    site_url = None  # no "View site": the API has no pages of its own to view

    # the sections in the order an operator's day goes, not alphabetical
    APP_ORDER = ("tenants", "users", "audit", "devtools")

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: n for n, label in enumerate(self.APP_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))

    def each_context(self, request):
        context = super().each_context(request)
        context["mipos_version"] = settings.MIPOS_VERSION
        return context

    def index(self, request, extra_context=None):
        from apps.console.selectors import dashboard_get  # the app registry is ready by now

        return super().index(request, {"dashboard": dashboard_get(), **(extra_context or {})})

    def password_change(self, request, extra_context=None):
        """The operator's own password, through the users' service as the API's change is: the
        same rules, its audit row, every token and other session ended; this session goes on."""
        form = ConsolePasswordChangeForm(request.user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                changed = password_change(
                    user=request.user,
                    current_password=form.cleaned_data["old_password"],
                    new_password=form.cleaned_data["new_password1"],
                    ip=current().ip,
                    issue_tokens=False,
                )
            except ApplicationError as error:
                if error.details:
                    fields = {"currentPassword": "old_password", "newPassword": "new_password1"}
                    service_error_show(form, error, fields)
                else:  # the login budget spent: Django's page shows only its fields' errors
                    form.add_error("old_password", error.message)
            else:
                update_session_auth_hash(request, changed.user)
                return HttpResponseRedirect(reverse("admin:password_change_done"))
        context = {
            **self.each_context(request),
            "form": form,
            "title": "Password change",
            "subtitle": None,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "registration/password_change_form.html", context)
