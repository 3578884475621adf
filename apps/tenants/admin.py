from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, run_service_action
from apps.tenants import services
from apps.tenants.models import Domain, Tenant, TenantSettings


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    can_delete = False
    readonly_fields = ("domain", "is_primary")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "status", "schema_name", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "legal_name", "schema_name")
    inlines = [DomainInline]
    actions = ["suspend", "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_template=False)

    @admin.action(description="Suspend the selected companies")
    def suspend(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset,
            lambda actor, tenant: services.tenant_suspend(actor=actor, tenant=tenant),
            "Suspended",
        )

    @admin.action(description="Restore the selected companies")
    def restore(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset,
            lambda actor, tenant: services.tenant_restore(actor=actor, tenant=tenant),
            "Restored",
        )

    def has_change_permission(self, request, obj=None):
        # the change list must be "changeable" for actions to show; the form stays read-only
        return obj is None and request.user.is_staff


@admin.register(Domain)
class DomainAdmin(ReadOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain", "tenant__name", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(TenantSettings)
class TenantSettingsAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "currency", "timezone", "tax_rate", "prices_include_tax")
    list_select_related = ("tenant",)
