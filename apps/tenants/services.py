"""Writes for tenants (companies): creation by cloning the template schema."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django_tenants.utils import schema_context

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance, audit_record
from apps.core.db import UNSET, Unset, row_create, row_lock, row_update, sent
from apps.core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    ValidationFailed,
)
from apps.core.events import publish_event, publish_tenant_access_changed
from apps.core.roles import Role
from apps.core.validation import (
    validate_country,
    validate_currency,
    validate_pattern,
    validate_range,
    validate_text,
    validate_timezone,
)
from apps.tenants import receipt_layout as layout
from apps.tenants.documents import money_documents_exist
from apps.tenants.limits import plan_feature_require
from apps.tenants.models import (
    BillingPeriod,
    Domain,
    Package,
    PlanFeature,
    Tenant,
    TenantSettings,
    TenantStatus,
    TenantUsage,
)
from apps.tenants.selectors import tenant_settings_cache_clear
from apps.users.cache import auth_cache_drop_tenant
from apps.users.models import User, normalize_email
from apps.users.services import password_validate, user_access_link_send, user_create

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$")
TEMPLATE_SLUG = "_template"  # underscores are not allowed in customer slugs: no clash


@dataclass(frozen=True)
class TenantWithOwner:
    tenant: Tenant
    owner: User


def schema_name_for(slug: str) -> str:
    return "t_" + slug.replace("-", "_")


def tenant_ensure_template() -> Tenant:
    """The hidden, migrated tenant whose schema new tenants are cloned from."""
    template = Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
    if template is None:
        template = Tenant(
            schema_name=settings.TENANT_BASE_SCHEMA,
            name="Template (do not use)",
            slug=TEMPLATE_SLUG,
            is_template=True,
        )
        template.save(verbosity=0)
    return template


def tenant_create(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None,
    owner_name: str,
    package_id: UUID | None = None,
    actor: User | None = None,
    reason: str = "",
) -> TenantWithOwner:
    """Creates a company (schema cloned from the template), its primary domain and its ADMIN,
    on the plan `package_id` (none: no plan, no limits). Without `owner_password` (the console's
    "invite the owner") the owner is e-mailed an invitation to set one, after the commit."""
    name, slug, owner_email = name.strip(), slug.strip().lower(), normalize_email(owner_email)
    errors = []
    if not name:
        errors.append({"field": "name", "message": "This field may not be blank."})
    if not SLUG_PATTERN.match(slug):
        errors.append(
            {
                "field": "slug",
                "message": "3-50 characters: lowercase letters, digits and inner hyphens.",
            }
        )
    if errors:
        raise ValidationFailed(details=errors)
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(
            "A company with this slug already exists.",
            details=[{"field": "slug", "message": "Already in use."}],
        )
    if User.objects.filter(email=owner_email).exists():
        raise Conflict(
            "A user with this email already exists.",
            details=[{"field": "ownerEmail", "message": "Already in use."}],
        )
    if owner_password is not None:
        password_validate(password=owner_password, field="ownerPassword")

    with transaction.atomic():
        package = _package_for(package_id) if package_id is not None else None
        tenant = Tenant(name=name, slug=slug, schema_name=schema_name_for(slug), package=package)
        try:
            with transaction.atomic():
                tenant.save(verbosity=0)
        except IntegrityError:
            raise Conflict(
                "A company with this slug already exists.",
                details=[{"field": "slug", "message": "Already in use."}],
            ) from None
        Domain.objects.create(
            domain=f"{slug}.{settings.TENANT_DOMAIN_SUFFIX}", tenant=tenant, is_primary=True
        )
        TenantSettings.objects.create(tenant=tenant)
        TenantUsage.objects.create(tenant=tenant)  # an empty schema: nothing counted yet
        owner = user_create(
            email=owner_email,
            password=owner_password,
            name=owner_name.strip() or name,
            role=Role.ADMIN,
            tenant=tenant,
            actor=actor,
            email_field="ownerEmail",
            password_field="ownerPassword",
            record_audit=False,
        )
        audit_record(
            action="tenant.create",
            entity_type="tenant",
            entity_id=tenant.pk,
            actor=actor,
            tenant=tenant,
            after={
                "name": tenant.name,
                "slug": tenant.slug,
                "status": tenant.status,
                "ownerId": str(owner.pk),
                "ownerEmail": owner.email,
                "packageId": str(package.pk) if package else None,
            },
            reason=reason,
        )
        if owner_password is None:
            user_access_link_send(actor=actor, user_id=owner.pk)
    return TenantWithOwner(tenant=tenant, owner=owner)


INVOICE_PREFIX = re.compile(r"^[A-Za-z0-9/_-]{0,12}$")


def tenant_profile_update(
    *,
    actor: User,
    tenant_id: UUID,
    name: str | Unset = UNSET,
    legal_name: str | Unset = UNSET,
    tax_id: str | Unset = UNSET,
    address: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    website: str | Unset = UNSET,
    logo_url: str | Unset = UNSET,
    package_id: UUID | Unset | None = UNSET,
    reason: str = "",
) -> Tenant:
    """The company's profile; `package_id` (the platform's super admins only: the views decide)
    moves it to another plan (null: no plan), audited in the same row as the rest (with the
    console's `reason`)."""
    changes = sent(
        package_id=package_id,
        name=name,
        legal_name=legal_name,
        tax_id=tax_id,
        address=address,
        email=email,
        phone=phone,
        website=website,
        logo_url=logo_url,
    )
    if "name" in changes:
        changes["name"] = validate_text(changes["name"], field="name")

    if changes.get("package_id") is not None:
        _package_for(changes["package_id"])  # 400 when there is no such plan

    def on_change(tenant: Tenant, after: dict) -> None:
        auth_cache_drop_tenant(tenant.pk)  # cached users carry their company and its plan
        publish_event(
            "tenant.updated", {"id": tenant.pk, "name": tenant.name}, schema=tenant.schema_name
        )

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return row_update(
        lock=lambda: row_lock(Tenant.objects.all(), tenant_id),
        changes=changes,
        actor=actor,
        action="tenant.update",
        entity_type="tenant",
        on_change=on_change,
        tenant=tenant,
        reason=reason,
    )


def tenant_settings_get(*, tenant: Tenant) -> TenantSettings:
    return TenantSettings.objects.get_or_create(tenant=tenant)[0]


DISCOUNT_ROLES = (Role.CASHIER, Role.MANAGER, Role.ADMIN)


def _validate_max_discount(value) -> dict[str, str]:
    """Every role's limit, a percent from 0 to 100 (the whole map is sent: what GET answers)."""
    field = "maxDiscountPercent"
    if isinstance(value, dict):  # the camelCase parser lower-cases all-capital keys
        value = {str(role).upper(): percent for role, percent in value.items()}
    if not isinstance(value, dict) or set(value) != set(DISCOUNT_ROLES):
        raise ValidationFailed.for_field(
            field, f"One percent for each of {', '.join(DISCOUNT_ROLES)}."
        )
    limits = {}
    for role in DISCOUNT_ROLES:
        try:
            percent = Decimal(str(value[role]))
        except (ArithmeticError, ValueError):
            percent = None
        if (
            percent is None
            or not percent.is_finite()
            or not 0 <= percent <= 100
            or percent != percent.quantize(Decimal("0.01"))
        ):
            raise ValidationFailed.for_field(
                f"{field}.{role}", "A percent from 0 to 100, at most two decimals."
            )
        limits[role] = format(percent.normalize(), "f")  # "10", "12.5"
    return limits


def _validate_settings(changes: dict) -> dict:
    if "currency" in changes:
        changes["currency"] = validate_currency(changes["currency"], field="currency")
    if "country" in changes:
        changes["country"] = validate_country(changes["country"], field="country")
    if "max_discount_percent" in changes:
        changes["max_discount_percent"] = _validate_max_discount(changes["max_discount_percent"])
    if "timezone" in changes:
        validate_timezone(changes["timezone"], field="timezone")
    if "tax_rate" in changes:
        validate_range(changes["tax_rate"], field="taxRate", low=0, high=100)
    if "invoice_prefix" in changes:
        validate_pattern(
            changes["invoice_prefix"],
            field="invoicePrefix",
            pattern=INVOICE_PREFIX,
            message="Up to 12 letters, digits, '/', '_' or '-'.",
        )
    if "void_window_hours" in changes:
        validate_range(changes["void_window_hours"], field="voidWindowHours", low=0, high=720)
    if "parked_cart_hours" in changes:
        validate_range(changes["parked_cart_hours"], field="parkedCartHours", low=1, high=720)
    for field, name in (
        ("loyalty_points_per_unit", "loyaltyPointsPerUnit"),
        ("loyalty_point_value", "loyaltyPointValue"),
    ):
        if field in changes:
            validate_range(changes[field], field=name, low=0)
    if changes.get("loyalty_points_expiry_months") is not None:
        validate_range(
            changes["loyalty_points_expiry_months"],
            field="loyaltyPointsExpiryMonths",
            low=1,
            high=120,
        )
    if (
        "receipt_paper_width_mm" in changes
        and changes["receipt_paper_width_mm"] not in layout.PAPER_BY_WIDTH
    ):
        raise ValidationFailed.for_field("receiptPaperWidthMm", "Must be 58, 80 or 210 (A4).")
    if "receipt_fields" in changes:
        changes["receipt_fields"] = layout.fields_validate(
            changes["receipt_fields"], field="receiptFields"
        )
    if "receipt_locale" in changes:
        changes["receipt_locale"] = layout.locale_validate(
            changes["receipt_locale"], field="receiptLocale"
        )
    return changes


def tenant_settings_update(
    *,
    actor: User,
    tenant: Tenant,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
    tax_rate: Decimal | Unset = UNSET,
    prices_include_tax: bool | Unset = UNSET,
    cash_rounding: str | Unset = UNSET,
    invoice_prefix: str | Unset = UNSET,
    allow_negative_stock: bool | Unset = UNSET,
    default_low_stock_threshold: int | Unset = UNSET,
    require_open_shift: bool | Unset = UNSET,
    void_window_hours: int | Unset = UNSET,
    parked_cart_hours: int | Unset = UNSET,
    loyalty_enabled: bool | Unset = UNSET,
    loyalty_points_per_unit: Decimal | Unset = UNSET,
    loyalty_point_value: Decimal | Unset = UNSET,
    loyalty_min_redeem_points: int | Unset = UNSET,
    loyalty_points_expiry_months: int | Unset | None = UNSET,
    receipt_header: str | Unset = UNSET,
    receipt_footer: str | Unset = UNSET,
    receipt_show_logo: bool | Unset = UNSET,
    receipt_paper_width_mm: int | Unset = UNSET,
    receipt_fields: dict[str, bool] | Unset = UNSET,
    receipt_return_policy: str | Unset = UNSET,
    receipt_locale: str | Unset = UNSET,
    country: str | Unset = UNSET,
    max_discount_percent: dict[str, str] | Unset = UNSET,
    force_currency_change: bool = False,
) -> TenantSettings:
    """Changes the settings sent. The currency cannot change once the company has documents
    with money on them (each keeps its own; 422 CURRENCY_LOCKED) unless `force_currency_change`
    says the admin means it: old documents then still show their own currency."""
    changes = _validate_settings(
        sent(
            currency=currency,
            country=country,
            max_discount_percent=max_discount_percent,
            timezone=timezone,
            tax_rate=tax_rate,
            prices_include_tax=prices_include_tax,
            cash_rounding=cash_rounding,
            invoice_prefix=invoice_prefix,
            allow_negative_stock=allow_negative_stock,
            default_low_stock_threshold=default_low_stock_threshold,
            require_open_shift=require_open_shift,
            void_window_hours=void_window_hours,
            parked_cart_hours=parked_cart_hours,
            loyalty_enabled=loyalty_enabled,
            loyalty_points_per_unit=loyalty_points_per_unit,
            loyalty_point_value=loyalty_point_value,
            loyalty_min_redeem_points=loyalty_min_redeem_points,
            loyalty_points_expiry_months=loyalty_points_expiry_months,
            receipt_header=receipt_header,
            receipt_footer=receipt_footer,
            receipt_show_logo=receipt_show_logo,
            receipt_paper_width_mm=receipt_paper_width_mm,
            receipt_fields=receipt_fields,
            receipt_return_policy=receipt_return_policy,
            receipt_locale=receipt_locale,
        )
    )

    if changes.get("loyalty_enabled") is True:
        plan_feature_require(tenant=tenant, feature=PlanFeature.LOYALTY)

    def lock() -> TenantSettings:
        TenantSettings.objects.get_or_create(tenant=tenant)
        return TenantSettings.objects.select_for_update().get(tenant=tenant)

    def guard(_settings: TenantSettings, pending: dict) -> None:
        if "currency" not in pending or force_currency_change:
            return
        with schema_context(tenant.schema_name):
            documented = money_documents_exist()
        if documented:
            raise BusinessRuleViolation(
                "The company has documents in its currency: send forceCurrencyChange to change it"
                " (they keep their own).",
                code=ErrorCode.CURRENCY_LOCKED,
                details=[
                    {"field": "currency", "message": f"Documents exist in {_settings.currency}."}
                ],
            )

    def on_change(_settings: TenantSettings, after: dict) -> None:
        publish_event("tenant.settings.updated", after, schema=tenant.schema_name)
        transaction.on_commit(lambda: tenant_settings_cache_clear(tenant_id=tenant.pk))

    return row_update(
        lock=lock,
        changes=changes,
        actor=actor,
        action="tenant.settings.update",
        entity_type="tenant_settings",
        guard=guard,
        on_change=on_change,
        tenant=tenant,
        entity_id=tenant.pk,
    )


def _tenant_status_change(*, actor: User, tenant: Tenant, to: str, reason: str) -> Tenant:
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status == to:
            raise BusinessRuleViolation(
                f"The company is already {to.lower()}.", code=ErrorCode.TENANT_STATE
            )
        before = locked.status
        locked.status = to
        locked.save(update_fields=["status", "updated_at"])
        auth_cache_drop_tenant(locked.pk)  # suspension applies from the next request
        publish_tenant_access_changed(locked.schema_name)  # open sockets re-check (and close)
        audit_record(
            action="tenant.suspend" if to == TenantStatus.SUSPENDED else "tenant.restore",
            entity_type="tenant",
            entity_id=locked.pk,
            actor=actor,
            tenant=locked,
            before={"status": before},
            after={"status": to} | ({"reason": reason} if reason else {}),
        )
    return locked


def tenant_suspend(*, actor: User | None, tenant: Tenant, reason: str = "") -> Tenant:
    """Its users are refused (403 TENANT_SUSPENDED) from the next request on; data is kept."""
    return _tenant_status_change(
        actor=actor, tenant=tenant, to=TenantStatus.SUSPENDED, reason=reason
    )


def tenant_restore(*, actor: User | None, tenant: Tenant, reason: str = "") -> Tenant:
    return _tenant_status_change(actor=actor, tenant=tenant, to=TenantStatus.ACTIVE, reason=reason)


# --- subscription packages ----------------------------------------------------------------------
PACKAGE_LIMITS = (
    "max_stores",
    "max_warehouses",
    "max_users",
    "max_products",
    "max_sales_per_month",
)


def _package_for(package_id: UUID) -> Package:
    package = Package.objects.filter(pk=package_id).first()
    if package is None:
        raise ValidationFailed.for_field("packageId", "There is no such package.")
    return package


def _package_duplicate() -> Conflict:
    return Conflict(
        "A package with this name already exists.",
        details=[{"field": "name", "message": "Already in use."}],
    )


def _package_clean(changes: dict) -> dict:
    if "name" in changes:
        changes["name"] = validate_text(changes["name"], field="name")
    if "currency" in changes:
        changes["currency"] = validate_currency(changes["currency"], field="currency")
    if "price" in changes:
        validate_range(changes["price"], field="price", low=0)
    if "billing_period" in changes and changes["billing_period"] not in BillingPeriod.values:
        raise ValidationFailed.for_field("billingPeriod", "Must be MONTHLY or YEARLY.")
    if "features" in changes:
        unknown = sorted(set(changes["features"]) - set(PlanFeature.values))
        if unknown:
            raise ValidationFailed.for_field(
                "features", f"Unknown: {', '.join(unknown)}. Known: {', '.join(PlanFeature)}."
            )
        changes["features"] = sorted(set(changes["features"]))
    return changes


def _package_snapshot(package: Package) -> dict:
    return {
        "name": package.name,
        "price": package.price,
        "currency": package.currency,
        "billing_period": package.billing_period,
        **{limit: getattr(package, limit) for limit in PACKAGE_LIMITS},
        "features": package.features,
        "requests_per_minute": package.requests_per_minute,
    }


def package_create(
    *,
    actor: User,
    name: str,
    description: str = "",
    price: Decimal = Decimal("0.00"),
    currency: str = "USD",
    billing_period: str = BillingPeriod.MONTHLY,
    max_stores: int | None = None,
    max_warehouses: int | None = None,
    max_users: int | None = None,
    max_products: int | None = None,
    max_sales_per_month: int | None = None,
    features: list[str] = (),
    requests_per_minute: int | None = None,
    reason: str = "",
) -> Package:
    """`reason` (the console asks for one) goes into the audit row's `after`."""
    fields = _package_clean(
        {
            "name": name,
            "description": description,
            "price": price,
            "currency": currency,
            "billing_period": billing_period,
            "max_stores": max_stores,
            "max_warehouses": max_warehouses,
            "max_users": max_users,
            "max_products": max_products,
            "max_sales_per_month": max_sales_per_month,
            "features": list(features),
            "requests_per_minute": requests_per_minute,
        }
    )
    if Package.objects.filter(name__iexact=fields["name"]).exists():
        raise _package_duplicate()
    package = Package(**fields)
    return row_create(
        package,
        conflict=_package_duplicate(),
        actor=actor,
        action="package.create",
        entity_type="package",
        after=_package_snapshot(package) | _reason(reason),
    )


def _reason(reason: str) -> dict:
    """The operator's reason for the audit row's `after`; nothing when none was given (API)."""
    return {"reason": reason} if reason else {}


def _plan_users_drop(package_id: UUID) -> None:
    """Cached users carry their company's plan: drop those of every company on it."""
    for tenant_id in Tenant.objects.filter(package_id=package_id).values_list("pk", flat=True):
        auth_cache_drop_tenant(tenant_id)


def package_update(
    *,
    actor: User,
    package_id: UUID,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    price: Decimal | Unset = UNSET,
    currency: str | Unset = UNSET,
    billing_period: str | Unset = UNSET,
    max_stores: int | Unset | None = UNSET,
    max_warehouses: int | Unset | None = UNSET,
    max_users: int | Unset | None = UNSET,
    max_products: int | Unset | None = UNSET,
    max_sales_per_month: int | Unset | None = UNSET,
    features: list[str] | Unset = UNSET,
    requests_per_minute: int | Unset | None = UNSET,
    reason: str = "",
) -> Package:
    """Lowering a limit below what a company uses is allowed: its new creates are refused.
    `reason` goes into the audit row's `after` (only written when a field changes)."""
    changes = _package_clean(
        sent(
            name=name,
            description=description,
            price=price,
            currency=currency,
            billing_period=billing_period,
            max_stores=max_stores,
            max_warehouses=max_warehouses,
            max_users=max_users,
            max_products=max_products,
            max_sales_per_month=max_sales_per_month,
            features=features,
            requests_per_minute=requests_per_minute,
        )
    )
    if "name" in changes and (
        Package.objects.filter(name__iexact=changes["name"]).exclude(pk=package_id).exists()
    ):
        raise _package_duplicate()
    pending: list[str] = []  # the fields that change: a no-op stays unaudited, reason or not
    return row_update(
        lock=lambda: row_lock(Package.objects.all(), package_id),
        changes=changes,
        actor=actor,
        action="package.update",
        entity_type="package",
        conflict=_package_duplicate(),
        guard=lambda _package, fields: pending.extend(fields),
        related=lambda _package: ({}, _reason(reason) if pending else {}),
        on_change=lambda package, _after: _plan_users_drop(package.pk),
        tenant=None,
    )


def package_delete(*, actor: User, package_id: UUID, reason: str = "") -> None:
    """A package that a company is on cannot be deleted (422 IN_USE): move them first.
    `reason` goes into the audit row's `after`."""
    with transaction.atomic():
        package = row_lock(Package.objects.all(), package_id)  # companies joining it wait
        in_use = Tenant.objects.filter(package_id=package.pk).count()
        if in_use:
            raise BusinessRuleViolation(
                f"{in_use} compan{'y is' if in_use == 1 else 'ies are'} on this package.",
                code=ErrorCode.IN_USE,
                details=[{"field": "id", "message": "Move the companies to another package."}],
            )
        before = _package_snapshot(package)
        try:
            with transaction.atomic():
                package.delete()
        except IntegrityError:  # a company was moved onto it meanwhile (the FK refuses)
            raise BusinessRuleViolation(
                "A company is on this package.", code=ErrorCode.IN_USE
            ) from None
        audit_record(
            action="package.delete",
            entity_type="package",
            entity_id=package_id,
            actor=actor,
            tenant=None,
            before=before,
            reason=reason,
        )


# --- deleting a company -------------------------------------------------------------------------
def tenant_delete(*, actor: User, tenant_id: UUID, reason: str, confirm_slug: str = "") -> None:
    """Erases a company: its schema (every store, product, sale, customer), its users, domains,
    settings, usage and its own audit trail. What stays is the platform trail's `tenant.delete`
    row (who, why, what the company was). Only a suspended company (422 otherwise): its users
    were refused from their next request, so no sale is being written while its schema goes (a
    checkout committing between the check below and the drop would be erased unconfirmed, and
    one in flight would deadlock with the drop). A company that has sales or other money
    documents is refused (422) unless `confirm_slug` repeats its slug: books someone may need."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(pk=tenant_id, is_template=False).first()
        if tenant is None:
            raise NotFound("No such company.")
        if tenant.status != TenantStatus.SUSPENDED:
            raise BusinessRuleViolation(
                "Suspend the company first: its users are then signed out and nothing more is "
                "written while it is erased.",
                code=ErrorCode.TENANT_STATE,
            )
        with schema_context(tenant.schema_name):
            has_documents = money_documents_exist()
        if has_documents and confirm_slug.strip() != tenant.slug:
            raise BusinessRuleViolation(
                "This company has sales. Type its slug to confirm that its books go too.",
                details=[{"field": "confirmSlug", "message": f"Type {tenant.slug} to confirm."}],
            )
        users = User.objects.filter(tenant=tenant)
        facts = {
            "name": tenant.name,
            "slug": tenant.slug,
            "status": tenant.status,
            "packageId": str(tenant.package_id) if tenant.package_id else None,
            "users": users.count(),
            "hadSales": has_documents,
        }
        auth_cache_drop_tenant(tenant.pk)
        publish_tenant_access_changed(tenant.schema_name)  # its open sockets close
        with audit_maintenance():  # the company's own trail goes with it, and its users' rows
            AuditLog.objects.filter(Q(tenant=tenant) | Q(actor__tenant=tenant)).delete()
        users.delete()
        schema = tenant.schema_name
        tenant.delete(force_drop=True)
        tenant_settings_cache_clear(tenant_id=tenant_id)
        audit_record(
            action="tenant.delete",
            entity_type="tenant",
            entity_id=tenant_id,
            actor=actor,
            before=facts | {"schema": schema},
            reason=reason,
        )
