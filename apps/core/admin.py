from django import forms
from django.contrib import admin, messages

from apps.core.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
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


class ReasonForm(forms.Form):
    """Every state-changing console action asks why; the reason goes into its audit row."""

    reason = forms.CharField(
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded in the audit trail with your name.",
    )
