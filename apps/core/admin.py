import re
from collections.abc import Mapping

from django import forms
from django.contrib import admin, messages
from django.utils.text import capfirst

from apps.core.errors import ApplicationError


class ListTitled:
    """A list page titled by what it lists ("Plans"), not Django's "Select plan to change"."""

    def changelist_view(self, request, extra_context=None):
        title = capfirst(self.model._meta.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


class ReadOnlyAdmin(ListTitled, admin.ModelAdmin):
    """Console pages show data; every change goes through an action that calls a service, so it
    is validated and audited exactly like the API's."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def run_service_action(modeladmin, request, queryset, service, label: str) -> None:
    """Applies `service(actor=..., obj)` to each selected row and reports each outcome."""
    done = 0
    for obj in queryset:
        try:
            service(request.user, obj)
            done += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)


REASON_MIN_LENGTH, REASON_MAX_LENGTH = 3, 500  # as an operator access's reason (apps.core.operator)


def service_error_show(
    form: forms.Form, error: ApplicationError, fields: Mapping[str, str] | None = None
) -> None:
    """Puts a service's refusal on a console form: each detail on its field (the API's name,
    mapped by `fields`, else turned to snake_case), and the refusal's message above the form
    unless a field already shows it. Nothing was written: the service refused."""
    shown = False
    for detail in error.details or []:
        api_name = str(detail.get("field") or "")
        name = (fields or {}).get(api_name) or _snake_case(api_name.split(".")[0])
        if name in form.fields:
            form.add_error(name, detail.get("message") or error.message)
            shown = shown or detail.get("message") == error.message
    if not shown:
        form.add_error(None, error.message)


def _snake_case(name: str) -> str:
    return re.sub(r"[A-Z]", lambda match: f"_{match.group().lower()}", name)


class ReasonForm(forms.Form):
    """Every state-changing console action asks why; the reason goes into its audit row."""

    reason = forms.CharField(
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded in the audit trail with your name.",
    )
