"""The console's user pages: "Platform admins" (the super admins: add, deactivate, reactivate,
force logout) and "Company users" (read-only, with deactivate and password reset). Every action
asks for a reason on a confirmation page and calls the same service as the API, so it is
validated and audited the same way, the reason in the audit row.

Framework internals are not shown: groups and permissions (roles are code, apps.core.roles) and
the token blacklist (revoking a user's tokens is "Force logout")."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from rest_framework_simplejwt.token_blacklist import admin as token_blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.core.admin import ReadOnlyAdmin, ReasonForm, run_service_action, service_error_show
from apps.core.admin_lists import CompanyFilter
from apps.core.errors import ApplicationError
from apps.core.roles import Role
from apps.users import services
from apps.users.models import CompanyUser, PlatformAdmin, User

# Imported above so that their registrations happen first (autodiscover would import them after
# this app's admin); then taken off the console.
_ = (auth_admin, token_blacklist_admin)
for _internal in (Group, Permission, BlacklistedToken, OutstandingToken):
    if admin.site.is_registered(_internal):
        admin.site.unregister(_internal)

REASON_TEMPLATE = "admin/users/reason_action.html"


def reason_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    explanation: str,
    service: Callable[[User, User, str], object],
    done: str,
) -> TemplateResponse | None:
    """Django's pattern for an action with a form: the first POST (from the list) shows a
    confirmation page asking for the reason; its POST runs `service(actor, user, reason)` on each
    selected user and goes back to the list with each outcome (a refusal is an error message,
    that user unchanged)."""
    confirmed = "confirm" in request.POST
    form = ReasonForm(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        reason = form.cleaned_data["reason"]
        run_service_action(
            modeladmin,
            request,
            queryset,
            lambda actor, user: service(actor, user, reason),
            done,
        )
        return None
    opts = modeladmin.model._meta
    return TemplateResponse(
        request,
        REASON_TEMPLATE,
        {
            **modeladmin.admin_site.each_context(request),
            "opts": opts,
            "title": title,
            "explanation": explanation,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        },
    )


class ActiveFilter(admin.SimpleListFilter):
    """Active = can sign in (active and not deleted), as the API's login decides."""

    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Deactivated or deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_active=True, deleted_at__isnull=True)
        if self.value() == "no":
            return queryset.exclude(is_active=True, deleted_at__isnull=True)
        return queryset


class UserAdminBase(ReadOnlyAdmin):
    """A user's page shows these fields only (never the password hash, PIN or token version)."""

    search_fields = ("email", "name")
    ordering = ("email",)
    list_per_page = 50

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, user: User) -> bool:
        return user.can_sign_in

    def history_view(self, request, object_id, extra_context=None):
        # a user's history is their rows on the audit trail (Django's admin log is not kept)
        query = urlencode({"entity_type": "user", "entity_id": object_id})
        return HttpResponseRedirect(f"{reverse('admin:audit_auditlog_changelist')}?{query}")

    def _deactivate(self, request, queryset, *, action: str):
        return reason_action(
            self,
            request,
            queryset,
            action=action,
            title="Deactivate users",
            explanation=(
                "They cannot sign in any more and every session they have (API tokens and"
                " console) ends now. Nothing else is changed."
            ),
            service=lambda actor, user, reason: services.staff_deactivate(
                actor=actor, user_id=user.pk, reason=reason
            ),
            done="Deactivated",
        )


@admin.register(PlatformAdmin)
class PlatformAdminAdmin(UserAdminBase):
    list_display = ("email", "name", "active", "last_login", "created_at")
    list_filter = (ActiveFilter,)
    fields = readonly_fields = (
        "email",
        "name",
        "phone",
        "is_active",
        "deleted_at",
        "last_login",
        "created_at",
    )
    actions = ["deactivate", "reactivate", "force_logout"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(role=Role.SUPER_ADMIN)

    def has_add_permission(self, request):
        return request.user.is_staff

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PlatformAdminAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                user = services.super_admin_create(
                    actor=request.user,
                    email=data["email"],
                    password=data["password1"],
                    name=data["name"],
                    reason=data["reason"],
                )
            except ApplicationError as error:
                service_error_show(form, error, form.SERVICE_FIELDS)
            else:
                self.message_user(request, f"Platform admin {user.email} added.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:users_platformadmin_changelist"))
        return TemplateResponse(
            request,
            "admin/users/platformadmin_add.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Add platform admin",
                "form": form,
            },
        )

    @admin.action(description="Deactivate the selected platform admins")
    def deactivate(self, request, queryset):
        return self._deactivate(request, queryset, action="deactivate")

    @admin.action(description="Reactivate the selected platform admins")
    def reactivate(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="reactivate",
            title="Reactivate platform admins",
            explanation="They can sign in again with their current password.",
            service=lambda actor, user, reason: services.staff_restore(
                actor=actor, user_id=user.pk, reason=reason
            ),
            done="Reactivated",
        )

    @admin.action(description="Force logout (end every session and token)")
    def force_logout(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            action="force_logout",
            title="Force logout",
            explanation=(
                "Every session ends now: refresh and access tokens are revoked and console"
                " sessions closed. They can sign in again."
            ),
            service=lambda actor, user, reason: services.session_logout_all(
                user=user, actor=actor, reason=reason
            ),
            done="Signed out",
        )


class PlatformAdminAddForm(ReasonForm):
    """A new super admin: the password is checked by the service (the API's rules)."""

    field_order = ["email", "name", "password1", "password2", "reason"]

    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    # the service's detail fields (as the API names them) -> this form's fields
    SERVICE_FIELDS = {"email": "email", "name": "name", "password": "password1"}

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") != data["password1"]:
            self.add_error("password2", "The two passwords differ.")
        return data


@admin.register(CompanyUser)
class CompanyUserAdmin(UserAdminBase):
    list_display = ("email", "name", "role", "company", "active", "last_login", "created_at")
    list_filter = (CompanyFilter, "role", ActiveFilter)
    search_fields = ("email", "name")
    list_select_related = ("tenant",)
    fields = readonly_fields = (
        "email",
        "name",
        "phone",
        "role",
        "company",
        "is_active",
        "deleted_at",
        "last_login",
        "created_at",
    )
    actions = ["deactivate", "reset_password"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(role=Role.SUPER_ADMIN)

    @admin.display(description="company", ordering="tenant__name")
    def company(self, user: User) -> str:
        return str(user.tenant)

    @admin.action(description="Deactivate the selected users (ends their sessions)")
    def deactivate(self, request, queryset):
        return self._deactivate(request, queryset, action="deactivate")

    @admin.action(description="Reset password (shows a one-time password, ends sessions)")
    def reset_password(self, request, queryset):
        def reset(actor: User, user: User, reason: str) -> None:
            temporary = secrets.token_urlsafe(12)
            services.password_reset(
                actor=actor, user_id=user.pk, new_password=temporary, reason=reason
            )
            self.message_user(
                request, f"{user.email}: temporary password {temporary}", messages.WARNING
            )

        return reason_action(
            self,
            request,
            queryset,
            action="reset_password",
            title="Reset passwords",
            explanation=(
                "Each selected user gets a new temporary password, shown once on the next page;"
                " every session they have ends."
            ),
            service=reset,
            done="Passwords reset",
        )
