import secrets

from django.contrib import admin, messages

from apps.core.admin import ReadOnlyAdmin, run_service_action
from apps.users import services
from apps.users.models import User


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("email", "name", "role", "tenant", "is_active", "deleted_at", "last_login")
    list_filter = ("role", "is_active", "tenant")
    search_fields = ("email", "name", "phone", "tenant__name", "tenant__slug")
    list_select_related = ("tenant",)
    exclude = ("password",)
    actions = ["deactivate", "reset_password"]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_staff  # enables actions; no edit form

    @admin.action(description="Deactivate the selected users (revokes their sessions)")
    def deactivate(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset.select_related("tenant"),
            lambda actor, user: services.staff_deactivate(actor=actor, user_id=user.pk),
            "Deactivated",
        )

    @admin.action(description="Reset password (shows a one-time password, revokes sessions)")
    def reset_password(self, request, queryset):
        for user in queryset.select_related("tenant"):
            temporary = secrets.token_urlsafe(12)
            services.password_reset(actor=request.user, user_id=user.pk, new_password=temporary)
            self.message_user(
                request, f"{user.email}: temporary password {temporary}", messages.WARNING
            )
