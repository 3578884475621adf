"""The request's user in one prepared statement: the same objects the ORM would build."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tenants.models import TenantSettings
from apps.users.models import User
from apps.users.selectors import auth_user_get

pytestmark = pytest.mark.django_db


def test_user_company_and_settings_match_the_orm(world_a):
    TenantSettings.objects.filter(tenant=world_a.tenant).update(currency="EUR")
    user = auth_user_get(user_id=world_a.cashier.pk)
    expected = User.objects.select_related("tenant", "tenant__settings").get(pk=world_a.cashier.pk)
    with CaptureQueriesContext(connection) as queries:  # everything is already loaded
        assert (user.pk, user.email, user.role, user.token_version, user.password) == (
            expected.pk,
            expected.email,
            expected.role,
            expected.token_version,
            expected.password,
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


def test_super_admin_has_no_company_and_unknown_ids_are_none(super_admin):
    user = auth_user_get(user_id=super_admin.pk)
    assert (user.pk, user.tenant) == (super_admin.pk, None)
    assert auth_user_get(user_id=uuid.uuid4()) is None


def test_the_statement_is_prepared_once_per_session(world_a):
    auth_user_get(user_id=world_a.admin.pk)
    with CaptureQueriesContext(connection) as queries:
        auth_user_get(user_id=world_a.admin.pk)
    assert [q["sql"].split("(")[0] for q in queries.captured_queries] == [
        "EXECUTE mipos_auth_user_v3"
    ]
