"""The request's user in one prepared statement: the same objects the ORM would build."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tenants.models import TenantSettings
from apps.users.models import User
from apps.users.selectors import AUTH_DEFERRED, auth_user_get

pytestmark = pytest.mark.django_db


def test_user_company_and_settings_match_the_orm(world_a):
    TenantSettings.objects.filter(tenant=world_a.tenant).update(currency="EUR")
    user = auth_user_get(user_id=world_a.cashier.pk)
    expected = User.objects.select_related("tenant", "tenant__settings").get(pk=world_a.cashier.pk)
    with CaptureQueriesContext(connection) as queries:  # everything is already loaded
        assert (user.pk, user.email, user.role, user.token_version, user.is_active) == (
            expected.pk,
            expected.email,
            expected.role,
            expected.token_version,
            True,
        )
        assert (user.tenant.pk, user.tenant.schema_name, user.tenant.status) == (
            world_a.tenant.pk,
            world_a.tenant.schema_name,
            expected.tenant.status,
        )
        assert (user.tenant.settings.currency, user.tenant.settings.tax_rate) == (
            "EUR",
            expected.tenant.settings.tax_rate,
        )
    assert queries.captured_queries == []


def test_the_columns_no_request_needs_load_together_on_first_read(world_a):
    """The password, the profile, the company's contact details, the receipt settings and the
    plan's price are not read with the user (AUTH_DEFERRED); the first read of one of them loads
    all of that row's in one query, with the values the ORM reads."""
    from apps.tenants.models import Package

    package = Package.objects.create(name="Deferred plan", description="For the test", max_users=9)
    Tenant = type(world_a.tenant)
    Tenant.objects.filter(pk=world_a.tenant.pk).update(package=package, legal_name="Acme Ltd")
    TenantSettings.objects.filter(tenant=world_a.tenant).update(receipt_footer="Thanks!")
    user = auth_user_get(user_id=world_a.cashier.pk)
    expected = User.objects.get(pk=world_a.cashier.pk)
    assert user.get_deferred_fields() == AUTH_DEFERRED["users.User"]
    tenant, settings, plan = user.tenant, user.tenant.settings, user.tenant.package
    assert tenant.get_deferred_fields() == AUTH_DEFERRED["tenants.Tenant"]
    assert settings.get_deferred_fields() == AUTH_DEFERRED["tenants.TenantSettings"]
    assert plan.get_deferred_fields() == AUTH_DEFERRED["tenants.Package"]
    with CaptureQueriesContext(connection) as queries:
        assert (plan.name, plan.max_users, plan.features) == ("Deferred plan", 9, [])
    assert queries.captured_queries == []  # what the limits and throttles read: loaded

    with CaptureQueriesContext(connection) as queries:
        assert (user.password, user.created_at, user.phone) == (
            expected.password,
            expected.created_at,
            expected.phone,
        )
        assert (tenant.legal_name, tenant.created_at) == ("Acme Ltd", world_a.tenant.created_at)
        assert (settings.receipt_footer, settings.receipt_paper_width_mm) == ("Thanks!", 80)
        assert plan.description == "For the test"
    assert len(queries.captured_queries) == 4  # one per row, not one per field
    for loaded in (user, tenant, settings, plan):
        assert loaded.get_deferred_fields() == set()


def test_super_admin_has_no_company_and_unknown_ids_are_none(super_admin):
    user = auth_user_get(user_id=super_admin.pk)
    assert (user.pk, user.tenant) == (super_admin.pk, None)
    assert auth_user_get(user_id=uuid.uuid4()) is None


def test_the_statement_is_prepared_once_per_session(world_a):
    auth_user_get(user_id=world_a.admin.pk)
    with CaptureQueriesContext(connection) as queries:
        auth_user_get(user_id=world_a.admin.pk)
    assert [q["sql"].split("(")[0] for q in queries.captured_queries] == [
        "EXECUTE mipos_auth_user_v4"
    ]
