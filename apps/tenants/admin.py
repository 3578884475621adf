from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from apps.core.admin import ListTitled, ReasonForm, service_error_show
from apps.core.errors import ApplicationError
from apps.tenants import selectors as tenant_selectors
from apps.tenants import services
from apps.tenants.api.serializers import LIMIT_MAX
from apps.tenants.models import BillingPeriod, Package, PlanFeature

# The companies' pages (list with usage, company page, actions) are the console's:
# apps/console/admin.py. Domains and settings show on the company page.


# --- plans (Package) ------------------------------------------------------------------------------
# Every write goes through the services of /api/v1/super-admin/packages (same validation, same
# audit row), with the operator's reason in the audit row's after["reason"].


PLAN_FIELDS = (
    "name",
    "description",
    "price",
    "currency",
    "billing_period",
    *services.PACKAGE_LIMITS,
    "features",
    "requests_per_minute",
)


class PlanForm(forms.ModelForm):
    """A plan's fields as the API takes them; `_post_clean` saves through the service, so a
    refusal (duplicate name, unknown currency...) shows on the form and nothing is saved."""

    features = forms.MultipleChoiceField(
        choices=PlanFeature.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    reason = ReasonForm.base_fields["reason"]
    actor = None  # the signed-in operator (set by PackageAdmin.get_form)

    class Meta:
        model = Package
        fields = PLAN_FIELDS
        help_texts = {
            **{limit: "Empty: unlimited." for limit in services.PACKAGE_LIMITS},
            "requests_per_minute": "For the whole company. Empty: the platform's default only.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the API serializer's ranges (the columns' own; beyond them PostgreSQL refuses)
        for limit in services.PACKAGE_LIMITS:
            self.fields[limit].validators.append(MaxValueValidator(LIMIT_MAX))
        self.fields["requests_per_minute"].validators += [
            MinValueValidator(1),
            MaxValueValidator(1_000_000),
        ]

    def _post_clean(self) -> None:
        # instead of the model's validation and save: the service's (the admin's view runs the
        # whole request in one transaction; the service's own is a savepoint in it)
        if self._errors:
            return
        data = {field: self.cleaned_data[field] for field in PLAN_FIELDS}
        reason = self.cleaned_data["reason"]
        try:
            if self.instance._state.adding:
                self.instance = services.package_create(actor=self.actor, reason=reason, **data)
            else:
                changed = {field: data[field] for field in self.changed_data if field in data}
                self.instance = services.package_update(
                    actor=self.actor, package_id=self.instance.pk, reason=reason, **changed
                )
        except ApplicationError as exc:
            service_error_show(self, exc)


def _unlimited(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


@admin.register(Package)
class PackageAdmin(ListTitled, admin.ModelAdmin):
    """Plans: their limits, features, request rate, price and the companies on each (counted
    in the list's one query)."""

    form = PlanForm
    list_display = (
        "name",
        "stores",
        "warehouses",
        "users",
        "products",
        "sales_per_month",
        "feature_list",
        "rate",
        "price_and_period",
        "companies",
    )
    search_fields = ("name", "description")
    ordering = ("price", "name")
    actions = None  # the bulk delete would skip the service (and its in-use refusal)
    delete_confirmation_template = "admin/tenants/package/delete_confirmation.html"
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Price (informational: no billing)", {"fields": ("price", "currency", "billing_period")}),
        ("Limits", {"fields": services.PACKAGE_LIMITS}),
        ("Features and rate", {"fields": ("features", "requests_per_minute")}),
        ("Why", {"fields": ("reason",)}),
    )

    def get_queryset(self, request):
        return tenant_selectors.package_list()  # annotated: tenant_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a new class per request (modelform_factory)
        return form

    def save_model(self, request, obj, form, change):
        pass  # saved by the service in PlanForm._post_clean

    @admin.display(description="stores", ordering="max_stores")
    def stores(self, package: Package) -> str:
        return _unlimited(package.max_stores)

    @admin.display(description="warehouses", ordering="max_warehouses")
    def warehouses(self, package: Package) -> str:
        return _unlimited(package.max_warehouses)

    @admin.display(description="users", ordering="max_users")
    def users(self, package: Package) -> str:
        return _unlimited(package.max_users)

    @admin.display(description="products", ordering="max_products")
    def products(self, package: Package) -> str:
        return _unlimited(package.max_products)

    @admin.display(description="sales per month", ordering="max_sales_per_month")
    def sales_per_month(self, package: Package) -> str:
        return _unlimited(package.max_sales_per_month)

    @admin.display(description="features")
    def feature_list(self, package: Package) -> str:
        labels = dict(PlanFeature.choices)
        return ", ".join(str(labels.get(value, value)) for value in package.features) or "-"

    @admin.display(description="requests per minute", ordering="requests_per_minute")
    def rate(self, package: Package) -> str:
        rate = package.requests_per_minute
        return "platform default" if rate is None else f"{rate:,}"

    @admin.display(description="price", ordering="price")
    def price_and_period(self, package: Package) -> str:
        period = "year" if package.billing_period == BillingPeriod.YEARLY else "month"
        return f"{package.currency} {package.price} / {period}"

    @admin.display(description="companies", ordering="tenant_count")
    def companies(self, package: Package) -> str:
        url = reverse("admin:tenants_tenant_changelist")
        return format_html(
            '<a href="{}?package__id__exact={}">{}</a>', url, package.pk, package.tenant_count
        )

    # Deleting: the service's refusal (a plan in use) is shown as the API words it.
    def get_deleted_objects(self, objs, request):
        # only the plan goes (companies PROTECT it: the service refuses while one is on it)
        plan = capfirst(Package._meta.verbose_name)
        return [f"{plan}: {obj}" for obj in objs], {Package._meta.verbose_name_plural: 1}, set(), []

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            context = {"reason_form": ReasonForm(), **(extra_context or {})}
            return super().delete_view(request, object_id, extra_context=context)
        package = self.get_object(request, unquote(object_id))
        if package is None:
            return self._get_obj_does_not_exist_redirect(request, Package._meta, object_id)
        if not self.has_delete_permission(request, package):
            raise PermissionDenied
        form = ReasonForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("reason", []):
                self.message_user(request, f"Reason: {error}", messages.ERROR)
            return HttpResponseRedirect(request.path)  # the confirmation page again
        change_url = reverse("admin:tenants_package_change", args=[package.pk])
        try:
            services.package_delete(
                actor=request.user, package_id=package.pk, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(change_url)
        self.message_user(request, f"The plan “{package}” was deleted.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tenants_package_changelist"))
