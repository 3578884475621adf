"""Writes for tenants (companies): creation by cloning the template schema."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.audit.services import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.roles import Role
from apps.tenants.models import Domain, Tenant
from apps.users.models import User, normalize_email
from apps.users.services import password_validate, user_create

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
    owner_password: str,
    owner_name: str,
    actor: User | None = None,
) -> TenantWithOwner:
    """Creates a company (schema cloned from the template), its primary domain and its ADMIN."""
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
    password_validate(password=owner_password, field="ownerPassword")

    with transaction.atomic():
        tenant = Tenant(name=name, slug=slug, schema_name=schema_name_for(slug))
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
        owner = user_create(
            email=owner_email,
            password=owner_password,
            name=owner_name.strip() or name,
            role=Role.ADMIN,
            tenant=tenant,
            actor=actor,
            email_field="ownerEmail",
            password_field="ownerPassword",
        )
        audit_record(
            action="tenant.create",
            entity_type="tenant",
            entity_id=tenant.pk,
            actor=actor,
            tenant=tenant,
            after={"name": tenant.name, "slug": tenant.slug, "status": tenant.status},
        )
    return TenantWithOwner(tenant=tenant, owner=owner)
