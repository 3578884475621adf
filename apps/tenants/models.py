from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_creation_fakes_migrations, schema_exists

from apps.core.models import DeferredLoadedTogether
from apps.core.money import money_field, point_value_field, points_rate_field, rate_field
from apps.tenants.schema_template import schema_create_from_template


class TenantStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class PlanFeature(models.TextChoices):
    """What a subscription package may switch on (403 FEATURE_NOT_IN_PLAN without it)."""

    ANALYTICS = "analytics"  # /analytics/*: market basket, trends, top products, reorder
    EXPORTS = "exports"  # ?format=csv|xlsx|pdf on reports and lists
    LOYALTY = "loyalty"  # loyalty points: switching them on, earning and redeeming
    MULTI_STORE = "multiStore"  # stock transfers between locations


class BillingPeriod(models.TextChoices):
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class Package(DeferredLoadedTogether, models.Model):
    """A subscription plan: limits on what a company may create (null = unlimited), the features
    it may use and its API request rate. Price and period are informational (no billing here)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, max_length=1000)
    price = money_field(default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="USD")
    billing_period = models.CharField(
        max_length=8, choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY
    )
    max_stores = models.PositiveIntegerField(null=True, blank=True)  # RETAIL locations
    max_warehouses = models.PositiveIntegerField(null=True, blank=True)
    max_users = models.PositiveIntegerField(null=True, blank=True)  # active staff
    max_products = models.PositiveIntegerField(null=True, blank=True)
    max_sales_per_month = models.PositiveIntegerField(null=True, blank=True)
    features = models.JSONField(default=list, blank=True)  # PlanFeature values
    # API requests per minute for the whole company (every user together); null = no own limit
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["price", "name"]
        verbose_name = "plan"

    def __str__(self) -> str:
        return self.name

    def has_feature(self, feature: str) -> bool:
        return feature in self.features


class Tenant(DeferredLoadedTogether, TenantMixin):
    """A company. Its business data lives in its own PostgreSQL schema (`schema_name`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    status = models.CharField(
        max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE
    )
    # Company profile (GET/PATCH /tenants/me)
    legal_name = models.CharField(max_length=200, blank=True)
    tax_id = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=300, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    website = models.URLField(max_length=300, blank=True)
    logo_url = models.URLField(max_length=500, blank=True)
    # The company's subscription; null = no plan: no limits, every feature (self-hosted use).
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="tenants"
    )
    # The migrated schema new tenants are cloned from; hidden from every listing.
    is_template = models.BooleanField(default=False)
    # The template's migration state (schema_template.template_migrations_digest) this schema was
    # made at or last migrated to by `manage.py migrate`; blank: not recorded. The console's
    # health reads it instead of walking every schema.
    migrations_digest = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        verbose_name = "company"
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool:
        """django-tenants' hook, called by save() for a new company: its schema is made from the
        template's DDL script (apps/tenants/schema_template.py) in one round trip, instead of
        django-tenants' clone plus `migrate_schemas --fake`. The template itself (and a database
        without one) still gets its schema from the migrations."""
        template = settings.TENANT_BASE_SCHEMA
        if (
            not sync_schema
            or not get_creation_fakes_migrations()  # off: migrate the new schema instead
            or self.schema_name == template
            or (check_if_exists and schema_exists(self.schema_name))
            or not schema_exists(template)
        ):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        digest = schema_create_from_template(self.schema_name)
        Tenant.objects.filter(pk=self.pk).update(migrations_digest=digest)
        self.migrations_digest = digest
        return True

    @property
    def is_suspended(self) -> bool:
        return self.status == TenantStatus.SUSPENDED


class Domain(DomainMixin):
    """A host name that serves exactly one tenant (and accepts only that tenant's tokens)."""

    def __str__(self) -> str:
        return self.domain


def default_max_discount_percent() -> dict[str, str]:
    return {"CASHIER": "10", "MANAGER": "50", "ADMIN": "100"}


class TenantSettings(DeferredLoadedTogether, models.Model):
    """The company's operating settings, one row per tenant (kept beside the tenant row so the
    platform console can read them without entering the schema)."""

    class CashRounding(models.TextChoices):
        NONE = "0.00"
        CENT = "0.01"
        FIVE_CENTS = "0.05"
        TEN_CENTS = "0.10"
        QUARTER = "0.25"
        HALF = "0.50"
        WHOLE = "1.00"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="settings")
    currency = models.CharField(max_length=3, default="USD")
    # ISO 3166-1 alpha-2: the country phone numbers are read in (blank: international form only)
    country = models.CharField(max_length=2, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")
    tax_rate = rate_field(default=Decimal("0.00"))
    prices_include_tax = models.BooleanField(default=False)
    cash_rounding = models.CharField(
        max_length=4, choices=CashRounding.choices, default=CashRounding.NONE
    )
    invoice_prefix = models.CharField(max_length=12, default="INV-")
    allow_negative_stock = models.BooleanField(default=False)
    default_low_stock_threshold = models.PositiveIntegerField(default=5)
    require_open_shift = models.BooleanField(default=False)
    # the largest discount (percent of a line's or the cart's price) each role may give on its
    # own; beyond it a checkout needs a manager's approval (apps.sales.approval)
    max_discount_percent = models.JSONField(default=default_max_discount_percent)
    parked_cart_hours = models.PositiveIntegerField(default=24)  # a parked cart expires after
    void_window_hours = models.PositiveIntegerField(default=24)
    loyalty_enabled = models.BooleanField(default=False)
    # points earned per whole currency unit spent
    loyalty_points_per_unit = points_rate_field(default=Decimal("1.00"))
    # currency value of one point when redeemed
    loyalty_point_value = point_value_field(default=Decimal("0.0100"))
    loyalty_min_redeem_points = models.PositiveIntegerField(default=100)
    # Points expire this many months after they were credited; null = they never expire.
    loyalty_points_expiry_months = models.PositiveSmallIntegerField(null=True, blank=True)
    receipt_header = models.TextField(blank=True, max_length=1000)
    receipt_footer = models.TextField(blank=True, max_length=1000)
    receipt_show_logo = models.BooleanField(default=True)
    receipt_paper_width_mm = models.PositiveSmallIntegerField(default=80)  # 58, 80, 210 (A4)
    # the rest of the company's receipt template (apps.receipts; stores may override it all)
    receipt_fields = models.JSONField(default=dict, blank=True)  # {cashier: bool, ...}
    receipt_return_policy = models.TextField(blank=True, max_length=1000)
    receipt_locale = models.CharField(max_length=16, default="en_US")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "company settings"
        verbose_name_plural = "company settings"

    def __str__(self) -> str:
        return f"settings of {self.tenant_id}"


class TenantUsage(models.Model):
    """How many counted things each company has (its plan's resources), kept in the public schema
    so that the console lists and ranks every company with one query instead of entering each
    schema. Not the plan guard's figure (that counts in the schema, under its lock): this copy is
    recounted, in the changing transaction, by the services that change what it counts
    (apps.tenants.usage). Users are not here: they live in the public schema already."""

    tenant = models.OneToOneField(
        Tenant, primary_key=True, on_delete=models.CASCADE, related_name="usage"
    )
    stores = models.PositiveIntegerField(default=0)
    warehouses = models.PositiveIntegerField(default=0)
    products = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "company usage"
        verbose_name_plural = "company usage"

    def __str__(self) -> str:
        return f"usage of {self.tenant_id}"


class TenantSalesDay(models.Model):
    """Checkouts and their total per company and day (the company's local date), added to in
    each checkout's transaction: the console's platform figures and each company's sales this
    month, without entering the schemas. Gross at the time of sale (returns and voids are not
    subtracted; a voided sale still counts against the plan's monthly sales, as in the guard)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sales_days")
    day = models.DateField()
    sales_count = models.PositiveIntegerField(default=0)
    sales_total = money_field(default=Decimal("0.00"))

    class Meta:
        verbose_name = "company sales day"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="tenant_sales_day_unique")
        ]
        indexes = [models.Index(fields=["day"], name="tenant_sales_day_day_idx")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.sales_count}"
