"""The companies in the console: the list with usage against the plan, "add company", the company
page and its actions (suspend / reactivate, change plan, send the owner a link, open as operator,
delete). Every action asks why and calls the same service as the API, so it is validated and
audited the same way; the reason goes into the audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.audit.models import AuditLog
from apps.audit.services import operator_access_record
from apps.console.selectors import company_list, company_usage_lines
from apps.core.admin import ListTitled, ReasonForm, service_error_show
from apps.core.admin_lists import audit_changelist_url, log_changelist_url
from apps.core.errors import ApplicationError
from apps.core.roles import Role
from apps.sales.models import Sale
from apps.stores.models import Store
from apps.tenants import services as tenant_services
from apps.tenants.models import Package, Tenant, TenantSettings, TenantStatus
from apps.users import services as user_services
from apps.users.models import User

# how long an "open as operator" access lasts before the reason is asked again
OPERATOR_ACCESS_MINUTES = 30
OPERATOR_SESSION_KEY = "console-operator-access"
RECENT_AUDIT_ROWS = 20
OPERATOR_SALES = 50


class PlanFilter(admin.SimpleListFilter):
    """By plan: the plans in one query, "No plan" for self-hosted companies."""

    title = "plan"
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return [("none", "No plan"), *Package.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(package__isnull=True)
        if value:
            return queryset.filter(package_id=value)
        return queryset


# --- forms --------------------------------------------------------------------------------------
class CompanyCreateForm(ReasonForm):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(
        max_length=50, help_text="3-50 lowercase letters, digits and inner hyphens."
    )
    owner_name = forms.CharField(max_length=150, label="Owner's name")
    owner_email = forms.EmailField(label="Owner's e-mail")
    owner_password = forms.CharField(
        label="Owner's password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to e-mail the owner an invitation to choose one.",
    )
    plan = forms.ModelChoiceField(
        queryset=Package.objects.order_by("price", "name"), required=False, empty_label="No plan"
    )
    field_order = ["name", "slug", "owner_name", "owner_email", "owner_password", "plan", "reason"]

    # the service's detail fields (camelCase, as the API names them) -> this form's fields
    FIELDS = {"ownerEmail": "owner_email", "ownerPassword": "owner_password"}


class PlanChangeForm(ReasonForm):
    plan = forms.ModelChoiceField(
        queryset=Package.objects.order_by("price", "name"), required=False, empty_label="No plan"
    )
    field_order = ["plan", "reason"]


class CompanyDeleteForm(ReasonForm):
    confirm_slug = forms.CharField(
        required=False,
        label="Type the company's slug",
        help_text="Needed when the company has sales: its books are erased too.",
    )


# --- the company admin --------------------------------------------------------------------------
@admin.register(Tenant)
class CompanyAdmin(ListTitled, admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "plan",
        "status",
        "stores_usage",
        "users_usage",
        "products_usage",
        "sales_usage",
        "created",
    )
    list_filter = (PlanFilter, "status")
    search_fields = ("name", "slug", "legal_name", "email")
    list_per_page = 50
    ordering = ("name",)
    actions = None

    def get_queryset(self, request):
        return company_list()

    def has_add_permission(self, request):
        return request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return False  # the company page is a view of its own; its changes are its actions

    def has_delete_permission(self, request, obj=None):
        return False  # a confirmed action of its own (delete_view)

    # list columns
    @admin.display(description="Created", ordering="created_at")
    def created(self, company: Tenant) -> str:
        return timezone.localtime(company.created_at).strftime("%Y-%m-%d")

    @admin.display(description="Plan", ordering="package__name")
    def plan(self, company: Tenant) -> str:
        return company.package.name if company.package else "No plan"

    def _usage(self, company: Tenant, label: str) -> str:
        line = next(line for line in company_usage_lines(company) if line.label == label)
        return f"{line.used} / {line.limit}" if line.limit is not None else str(line.used)

    @admin.display(description="Stores")
    def stores_usage(self, company: Tenant) -> str:
        return self._usage(company, "Stores")

    @admin.display(description="Users")
    def users_usage(self, company: Tenant) -> str:
        return self._usage(company, "Active users")

    @admin.display(description="Products")
    def products_usage(self, company: Tenant) -> str:
        return self._usage(company, "Products")

    @admin.display(description="Sales this month")
    def sales_usage(self, company: Tenant) -> str:
        return self._usage(company, "Sales this month")

    # pages
    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        name = "tenants_tenant"
        return [
            path("<uuid:company_id>/suspend/", view(self.suspend_view), name=f"{name}_suspend"),
            path(
                "<uuid:company_id>/reactivate/",
                view(self.reactivate_view),
                name=f"{name}_reactivate",
            ),
            path("<uuid:company_id>/plan/", view(self.plan_view), name=f"{name}_plan"),
            path(
                "<uuid:company_id>/owner-link/",
                view(self.owner_link_view),
                name=f"{name}_owner_link",
            ),
            path("<uuid:company_id>/operator/", view(self.operator_view), name=f"{name}_operator"),
            path("<uuid:company_id>/erase/", view(self.erase_view), name=f"{name}_erase"),
            *super().get_urls(),
        ]

    def _company(self, company_id) -> Tenant:
        company = company_list().filter(pk=company_id).first()
        if company is None:
            raise Http404("No such company.")
        return company

    def _page(self, request, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/console/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                **context,
            },
        )

    def _company_url(self, company_id) -> str:
        return reverse("admin:tenants_tenant_change", args=[company_id])

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CompanyCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                created = tenant_services.tenant_create(
                    actor=request.user,
                    name=data["name"],
                    slug=data["slug"],
                    owner_email=data["owner_email"],
                    owner_password=data["owner_password"] or None,
                    owner_name=data["owner_name"],
                    package_id=data["plan"].pk if data["plan"] else None,
                    reason=data["reason"],
                )
            except ApplicationError as error:
                service_error_show(form, error, CompanyCreateForm.FIELDS)
            else:
                owner = created.owner.email
                told = (
                    f"an invitation was e-mailed to {owner}"
                    if not data["owner_password"]
                    else owner
                )
                self.message_user(
                    request,
                    f"Company {created.tenant.name} created; owner: {told}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._company_url(created.tenant.pk))
        return self._page(request, "company_add.html", "Add company", form=form)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        company = self._company(object_id)
        users = User.objects.filter(tenant_id=company.pk)
        audit = list(
            AuditLog.objects.filter(tenant_id=company.pk)
            .select_related("actor")
            .order_by("-created_at", "-id")[:RECENT_AUDIT_ROWS]
        )
        plan_names = {str(pk): name for pk, name in Package.objects.values_list("pk", "name")}
        for entry in audit:
            entry.details = audit_details(entry.after, plan_names)
        return self._page(
            request,
            "company.html",
            company.name,
            company=company,
            usage=company_usage_lines(company),
            domains=company.domains.order_by("-is_primary", "domain"),
            settings_rows=settings_rows(company.settings),
            admins=users.filter(role=Role.ADMIN).order_by("created_at"),
            user_count=users.filter(is_active=True, deleted_at__isnull=True).count(),
            audit=audit,
            audit_url=audit_changelist_url(tenant=company.pk),
            logs_url=log_changelist_url(tenant=company.schema_name),
            users_url=reverse("admin:users_companyuser_changelist") + f"?tenant={company.pk}",
            suspended=company.status == TenantStatus.SUSPENDED,
        )

    def _action(
        self,
        request: HttpRequest,
        company_id,
        *,
        title: str,
        explanation: str,
        form_class=ReasonForm,
        initial: dict | None = None,
        run,
        done: str,
        then: str | None = None,
    ) -> HttpResponse:
        """A confirmation page with the action's form; on a valid POST, `run(company, data)`
        (a service call) and on to `then` (the company page by default). A refusal stays on the
        page, nothing changed."""
        company = self._company(company_id)
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                run(company, form.cleaned_data)
            except ApplicationError as error:
                service_error_show(form, error)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(then or self._company_url(company.pk))
        return self._page(
            request,
            "action.html",
            title,
            company=company,
            form=form,
            explanation=explanation,
            company_url=self._company_url(company.pk),
        )

    def suspend_view(self, request, company_id):
        return self._action(
            request,
            company_id,
            title="Suspend company",
            explanation="Its users are refused (403) from their next request; nothing is deleted.",
            run=lambda company, data: tenant_services.tenant_suspend(
                actor=request.user, tenant=company, reason=data["reason"]
            ),
            done="Company suspended.",
        )

    def reactivate_view(self, request, company_id):
        return self._action(
            request,
            company_id,
            title="Reactivate company",
            explanation="Its users can sign in and work again.",
            run=lambda company, data: tenant_services.tenant_restore(
                actor=request.user, tenant=company, reason=data["reason"]
            ),
            done="Company reactivated.",
        )

    def plan_view(self, request, company_id):
        company = self._company(company_id)

        def run(company: Tenant, data: dict[str, Any]) -> None:
            plan = data["plan"]
            if (plan.pk if plan else None) == company.package_id:
                raise ApplicationError("The company is already on this plan.")
            tenant_services.tenant_profile_update(
                actor=request.user,
                tenant_id=company.pk,
                package_id=plan.pk if plan else None,
                reason=data["reason"],
            )

        return self._action(
            request,
            company_id,
            title="Change plan",
            explanation="Limits and features apply from the company's next request. Going "
            "below the current usage removes nothing; new ones are refused until under it.",
            form_class=PlanChangeForm,
            initial={"plan": company.package_id},
            run=run,
            done="Plan changed.",
        )

    def owner_link_view(self, request, company_id):
        company = self._company(company_id)
        owner = (
            User.objects.filter(tenant_id=company.pk, role=Role.ADMIN, deleted_at__isnull=True)
            .order_by("created_at")
            .first()
        )
        if owner is None:
            raise Http404("This company has no admin.")
        invitation = not owner.has_usable_password()
        return self._action(
            request,
            company_id,
            title="Resend invitation" if invitation else "Send password reset",
            explanation=f"E-mails {owner.email} a one-time link to choose a password."
            + ("" if invitation else " The current password keeps working until it is used."),
            run=lambda company, data: user_services.user_access_link_send(
                actor=request.user, user_id=owner.pk, reason=data["reason"]
            ),
            done=f"Link sent to {owner.email}.",
        )

    def erase_view(self, request, company_id):
        return self._action(
            request,
            company_id,
            title="Delete company",
            explanation="Erases the company: every store, product, sale and customer, its "
            "users and its own audit trail. The platform trail keeps who deleted it and why. "
            "This cannot be undone.",
            form_class=CompanyDeleteForm,
            run=lambda company, data: tenant_services.tenant_delete(
                actor=request.user,
                tenant_id=company.pk,
                reason=data["reason"],
                confirm_slug=data["confirm_slug"],
            ),
            done="Company deleted.",
            then=reverse("admin:tenants_tenant_changelist"),
        )

    def delete_view(self, request, object_id, extra_context=None):
        return HttpResponseRedirect(reverse("admin:tenants_tenant_erase", args=[object_id]))

    def operator_view(self, request, company_id):
        """Open as operator: a reason starts an access of OPERATOR_ACCESS_MINUTES (kept in the
        console session); each page shown is audited on both trails, as an API operator
        request is (apps.core.operator)."""
        company = self._company(company_id)
        accesses = request.session.get(OPERATOR_SESSION_KEY, {})
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            accesses[str(company.pk)] = {
                "reason": form.cleaned_data["reason"],
                "until": (
                    timezone.now() + dt.timedelta(minutes=OPERATOR_ACCESS_MINUTES)
                ).isoformat(),
            }
            request.session[OPERATOR_SESSION_KEY] = accesses
            return HttpResponseRedirect(request.path)
        access = accesses.get(str(company.pk))
        if (
            request.method == "POST"
            or access is None
            or dt.datetime.fromisoformat(access["until"]) <= timezone.now()
        ):
            return self._page(
                request,
                "action.html",
                "Open as operator",
                company=company,
                form=form,
                explanation=f"Shows the company's stores, users and last {OPERATOR_SALES} "
                "sales, read-only. Each page is recorded on the company's trail and the "
                f"platform's with your reason; the access lasts {OPERATOR_ACCESS_MINUTES} "
                "minutes.",
                company_url=self._company_url(company.pk),
            )
        if company.status == TenantStatus.SUSPENDED:
            messages.warning(request, "This company is suspended: its users cannot sign in.")
        with schema_context(company.schema_name):
            stores = list(Store.objects.alive().order_by("code"))
            sales = list(
                Sale.objects.select_related("store").order_by("-created_at", "-id")[:OPERATOR_SALES]
            )
        users = list(User.objects.filter(tenant_id=company.pk).order_by("role", "email"))
        names = {user.pk: user.name for user in users}
        for sale in sales:
            sale.cashier_name = names.get(sale.cashier_id, "")
        operator_access_record(
            operator=request.user,
            tenant=company,
            method="GET",
            path=request.path,
            query="",
            reason=access["reason"],
            status=200,
        )
        return self._page(
            request,
            "operator.html",
            f"{company.name} (as operator)",
            company=company,
            reason=access["reason"],
            until=dt.datetime.fromisoformat(access["until"]),
            stores=stores,
            users=users,
            sales=sales,
            company_url=self._company_url(company.pk),
        )


# the settings whose field name does not read well as a label
SETTING_LABELS = {
    "timezone": "Time zone",
    "tax_rate": "Tax rate (%)",
    "max_discount_percent": "Largest discount without approval (%)",
    "receipt_paper_width_mm": "Receipt paper width (mm)",
    "loyalty_points_per_unit": "Loyalty points per currency unit",
    "loyalty_min_redeem_points": "Loyalty minimum points to redeem",
    "default_low_stock_threshold": "Default low-stock threshold",
}


def shown(value: Any) -> str:
    """A setting's or an audit value as a person reads it."""
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key} {shown(item)}" for key, item in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    return str(value)


def settings_rows(company_settings: TenantSettings) -> list[tuple[str, str]]:
    """The company's settings by their English names, in the model's order."""
    skip = {"id", "tenant", "updated_at"}
    return [
        (
            SETTING_LABELS.get(field.name, field.verbose_name.capitalize()),
            shown(getattr(company_settings, field.name)),
        )
        for field in TenantSettings._meta.concrete_fields
        if field.name not in skip
    ]


def audit_details(after: dict | None, plan_names: dict[str, str]) -> list[tuple[str, str]]:
    """An audit row's `after` as (name, value) pairs; a plan's id shown as its name."""
    details = []
    for key, value in (after or {}).items():
        if key in ("package_id", "packageId") and value is not None:
            key, value = "plan", plan_names.get(str(value), value)
        details.append((key, shown(value)))
    return details
