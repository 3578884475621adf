"""The console's plans page: the list with limits and the companies on each (one query however
many plans), and add / edit / delete through the services of /api/v1/super-admin/packages (same
validation, same audit row, with the operator's reason)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditLog
from apps.tenants.models import Package, Tenant

pytestmark = pytest.mark.django_db

LIST = "/admin/tenants/package/"
REASON = "New pricing from January"


@pytest.fixture
def console(super_admin) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


def form(**changes) -> dict:
    """The add/change form's fields as a browser posts them (empty limit: unlimited)."""
    data = {
        "name": "Growth",
        "description": "",
        "price": "29.00",
        "currency": "EUR",
        "billing_period": "MONTHLY",
        "max_stores": "3",
        "max_warehouses": "",
        "max_users": "10",
        "max_products": "",
        "max_sales_per_month": "",
        "features": ["analytics", "exports"],
        "requests_per_minute": "",
        "reason": REASON,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_plans_list_shows_limits_features_rate_price_and_companies(console, world_a, world_b):
    growth = Package.objects.create(
        name="Growth",
        price=Decimal("29.00"),
        currency="EUR",
        max_stores=3,
        max_users=1500,
        features=["analytics", "multiStore"],
        requests_per_minute=600,
    )
    Package.objects.create(name="Enterprise", price=Decimal("99.00"), billing_period="YEARLY")
    Tenant.objects.filter(pk__in=[world_a.tenant.pk, world_b.tenant.pk]).update(package=growth)

    page = console.get(LIST)

    assert page.status_code == 200
    rows = {row.name: row for row in page.context["cl"].result_list}
    assert (rows["Growth"].tenant_count, rows["Enterprise"].tenant_count) == (2, 0)
    html = page.content.decode()
    assert (
        '<td class="field-stores">3</td><td class="field-warehouses">unlimited</td>'
        '<td class="field-users">1,500</td><td class="field-products">unlimited</td>'
        '<td class="field-sales_per_month">unlimited</td>'
        '<td class="field-feature_list">Analytics, Multi Store</td>'
        '<td class="field-rate">600</td>'
        '<td class="field-price_and_period">EUR 29.00 / month</td>'
        '<td class="field-companies">'
        f'<a href="/admin/tenants/tenant/?package__id__exact={growth.pk}">2</a></td>'
    ) in html
    assert '<td class="field-rate">platform default</td>' in html
    assert "USD 99.00 / year" in html


def test_plans_list_query_count_does_not_grow_with_plans(console):
    Package.objects.create(name="One", max_stores=1)
    with CaptureQueriesContext(connection) as few:
        assert console.get(LIST).status_code == 200
    for number in range(2, 9):
        Package.objects.create(name=f"Plan {number}", max_stores=number, features=["exports"])
    with CaptureQueriesContext(connection) as many:
        page = console.get(LIST)
    assert page.status_code == 200
    assert len(page.context["cl"].result_list) == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_adding_a_plan_runs_the_service_and_audits_the_reason(console, super_admin):
    response = console.post(f"{LIST}add/", form())

    assert response.status_code == 302 and response["Location"] == LIST
    plan = Package.objects.get(name="Growth")
    assert (plan.price, plan.currency, plan.max_stores, plan.max_warehouses, plan.max_users) == (
        Decimal("29.00"),
        "EUR",
        3,
        None,
        10,
    )
    assert plan.features == ["analytics", "exports"]
    row = AuditLog.objects.get(action="package.create", entity_id=str(plan.pk))
    assert (row.actor_id, row.tenant_id, row.before) == (super_admin.pk, None, None)
    assert row.after == {
        "name": "Growth",
        "price": "29.00",
        "currency": "EUR",
        "billing_period": "MONTHLY",
        "max_stores": 3,
        "max_warehouses": None,
        "max_users": 10,
        "max_products": None,
        "max_sales_per_month": None,
        "features": ["analytics", "exports"],
        "requests_per_minute": None,
        "reason": REASON,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"currency": "ZZZ"}, "currency", None),  # the service's currency check
        ({"max_stores": "-1"}, "max_stores", "Ensure this value is greater than or equal to 0."),
        (
            {"max_users": "2147483648"},
            "max_users",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        ({"reason": "ok"}, "reason", "Ensure this value has at least 3 characters (it has 2)."),
        ({"reason": None}, "reason", "This field is required."),
    ],
)
def test_a_refused_plan_shows_on_the_form_and_nothing_is_saved(console, changes, field, message):
    Package.objects.create(name="Business")
    plans, audits = list(Package.objects.values()), AuditLog.objects.count()

    response = console.post(f"{LIST}add/", form(**changes))

    assert response.status_code == 200  # the form again
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]
    assert list(Package.objects.values()) == plans
    assert AuditLog.objects.count() == audits


def test_a_duplicate_name_is_refused_with_the_apis_messages(console):
    Package.objects.create(name="Business")
    plans, audits = list(Package.objects.values()), AuditLog.objects.count()
    response = console.post(f"{LIST}add/", form(name="BUSINESS"))  # the service's 409, any case
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": ["Already in use."],
        "__all__": ["A package with this name already exists."],
    }
    assert list(Package.objects.values()) == plans
    assert AuditLog.objects.count() == audits


def test_editing_a_plan_audits_the_changed_fields_and_the_reason(console, super_admin):
    plan = Package.objects.create(
        name="Growth", price=Decimal("29.00"), currency="EUR", max_stores=3, max_users=10,
        features=["analytics", "exports"],
    )  # fmt: skip

    response = console.post(
        f"{LIST}{plan.pk}/change/",
        form(max_stores="", features=["analytics", "loyalty"], reason="Customer request"),
    )

    assert response.status_code == 302 and response["Location"] == LIST
    plan.refresh_from_db()
    assert (plan.max_stores, plan.features) == (None, ["analytics", "loyalty"])
    (row,) = AuditLog.objects.filter(action="package.update", entity_id=str(plan.pk))
    assert row.actor_id == super_admin.pk
    assert row.before == {"max_stores": 3, "features": ["analytics", "exports"]}
    assert row.after == {
        "max_stores": None,
        "features": ["analytics", "loyalty"],
        "reason": "Customer request",
    }


def test_saving_an_unchanged_plan_writes_no_audit_row(console):
    plan = Package.objects.create(
        name="Growth", price=Decimal("29.00"), currency="EUR", max_stores=3, max_users=10,
        features=["analytics", "exports"],
    )  # fmt: skip
    response = console.post(f"{LIST}{plan.pk}/change/", form())
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="package.update").exists()


def test_the_change_page_shows_features_as_checkboxes(console):
    plan = Package.objects.create(name="Growth", features=["loyalty"])
    html = console.get(f"{LIST}{plan.pk}/change/").content.decode()
    assert '<input type="checkbox" name="features" value="loyalty" ' in html
    assert 'value="loyalty" id="id_features_2" checked>' in html
    assert 'value="analytics" id="id_features_0">' in html
    assert '<textarea name="reason"' in html


def test_deleting_a_plan_in_use_is_refused_with_the_apis_message(console, world_a):
    plan = Package.objects.create(name="Growth")
    Tenant.objects.filter(pk=world_a.tenant.pk).update(package=plan)

    confirm = console.get(f"{LIST}{plan.pk}/delete/")
    assert confirm.status_code == 200
    assert '<textarea name="reason"' in confirm.content.decode()
    response = console.post(f"{LIST}{plan.pk}/delete/", {"post": "yes", "reason": REASON})

    assert response.status_code == 302 and response["Location"] == f"{LIST}{plan.pk}/change/"
    assert messages_of(console.get(response["Location"])) == ["1 company is on this package."]
    assert Package.objects.filter(pk=plan.pk).exists()
    assert Tenant.objects.get(pk=world_a.tenant.pk).package_id == plan.pk
    assert not AuditLog.objects.filter(action="package.delete").exists()


def test_deleting_a_plan_needs_a_reason(console):
    plan = Package.objects.create(name="Growth")
    response = console.post(f"{LIST}{plan.pk}/delete/", {"post": "yes", "reason": ""})
    assert response.status_code == 302 and response["Location"] == f"{LIST}{plan.pk}/delete/"
    assert messages_of(console.get(response["Location"])) == ["Reason: This field is required."]
    assert Package.objects.filter(pk=plan.pk).exists()
    assert not AuditLog.objects.filter(action="package.delete").exists()


def test_deleting_an_unused_plan_runs_the_service_and_audits_the_reason(console, super_admin):
    plan = Package.objects.create(name="Old", price=Decimal("5.00"), max_users=2)

    response = console.post(f"{LIST}{plan.pk}/delete/", {"post": "yes", "reason": REASON})

    assert response.status_code == 302 and response["Location"] == LIST
    assert messages_of(console.get(LIST)) == ["The plan “Old” was deleted."]
    assert not Package.objects.filter(pk=plan.pk).exists()
    row = AuditLog.objects.get(action="package.delete", entity_id=str(plan.pk))
    assert row.actor_id == super_admin.pk
    assert row.before == {
        "name": "Old",
        "price": "5.00",
        "currency": "USD",
        "billing_period": "MONTHLY",
        "max_stores": None,
        "max_warehouses": None,
        "max_users": 2,
        "max_products": None,
        "max_sales_per_month": None,
        "features": [],
        "requests_per_minute": None,
    }
    assert row.after == {"reason": REASON}


def test_plans_have_no_bulk_delete(console):
    plan = Package.objects.create(name="Old")
    page = console.get(LIST)
    assert 'name="action"' not in page.content.decode()
    response = console.post(LIST, {"action": "delete_selected", "_selected_action": [str(plan.pk)]})
    assert Package.objects.filter(pk=plan.pk).exists()
    assert response.status_code == 200
