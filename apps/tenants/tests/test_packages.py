"""Subscription packages: the super admin's CRUD, a company's plan, its limits at the boundary
(refusals change nothing), its features, and the company's view of its subscription."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.catalog.models import Product
from apps.inventory.models import StockLevel
from apps.sales.models import Sale
from apps.stores.models import Store
from apps.tenants.models import Package, Tenant, TenantSettings
from apps.users.models import User
from apps.users.selectors import auth_user_get
from conftest import PASSWORD
from tests.factories.sales import CHECKOUT, cash, line

pytestmark = pytest.mark.django_db

URL = "/api/v1/super-admin/packages"
ALL_FEATURES = ["analytics", "exports", "loyalty", "multiStore"]


def on_plan(world, **limits) -> Package:
    """Puts `world`'s company on a new plan with `limits` (every feature unless given)."""
    limits.setdefault("features", ALL_FEATURES)
    package = Package.objects.create(name=f"Plan {Package.objects.count() + 1}", **limits)
    Tenant.objects.filter(pk=world.tenant.pk).update(package=package)
    return package


def error(response) -> dict:
    return response.json()["error"]


@pytest.fixture(autouse=True)
def _test_started(request):
    """Audit rows of this test only: the session's fixtures wrote (and committed) their own."""
    from django.utils import timezone

    request.node.started = timezone.now()
    global STARTED
    STARTED = request.node.started


STARTED = None


def audit_count(**filters) -> int:
    return AuditLog.objects.filter(created_at__gte=STARTED, **filters).count()


# --- packages CRUD --------------------------------------------------------------------------------
def test_super_admin_creates_reads_updates_and_deletes_a_package(api, super_admin):
    client = api(super_admin)
    created = client.post(
        URL,
        {
            "name": " Starter ",
            "price": "9.90",
            "currency": "eur",
            "billingPeriod": "MONTHLY",
            "maxStores": 1,
            "maxUsers": 3,
            "maxProducts": 100,
            "maxSalesPerMonth": 1000,
            "features": ["exports", "analytics", "exports"],
            "requestsPerMinute": 600,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert {k: v for k, v in data.items() if k not in ("id", "createdAt", "updatedAt")} == {
        "name": "Starter",
        "description": "",
        "price": "9.90",
        "currency": "EUR",
        "billingPeriod": "MONTHLY",
        "maxStores": 1,
        "maxWarehouses": None,
        "maxUsers": 3,
        "maxProducts": 100,
        "maxSalesPerMonth": 1000,
        "features": ["analytics", "exports"],
        "requestsPerMinute": 600,
        "tenantCount": 0,
    }
    package_id = data["id"]
    assert audit_count(action="package.create", entity_id=package_id, actor=super_admin) == 1

    updated = client.patch(f"{URL}/{package_id}", {"maxStores": None}, format="json")
    assert updated.status_code == 200, updated.content
    assert (updated.json()["data"]["maxStores"], updated.json()["data"]["maxUsers"]) == (None, 3)
    row = AuditLog.objects.get(action="package.update", entity_id=package_id)
    assert (row.before, row.after) == ({"max_stores": 1}, {"max_stores": None})

    listed = client.get(URL)
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()["data"]] == ["Starter"]

    deleted = client.delete(f"{URL}/{package_id}")
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["data"]["name"] == "Starter"
    assert not Package.objects.filter(pk=package_id).exists()
    assert audit_count(action="package.delete", entity_id=package_id) == 1
    assert client.get(f"{URL}/{package_id}").status_code == 404


def test_package_refusals_change_nothing(api, super_admin):
    client = api(super_admin)
    Package.objects.create(name="Business")
    before = list(Package.objects.values())
    audits = audit_count()
    duplicate = client.post(URL, {"name": "business"}, format="json")
    assert (duplicate.status_code, error(duplicate)["code"]) == (409, "CONFLICT")
    assert error(duplicate)["details"] == [{"field": "name", "message": "Already in use."}]
    unknown = client.post(URL, {"name": "X", "features": ["teleport"]}, format="json")
    assert (unknown.status_code, error(unknown)["details"][0]["field"]) == (400, "features.0")
    negative = client.post(URL, {"name": "X", "maxStores": -1}, format="json")
    assert (negative.status_code, error(negative)["details"][0]["field"]) == (400, "maxStores")
    # beyond the integer column (found by schemathesis: it was a 500 from the database)
    for field in ("maxStores", "maxWarehouses", "maxUsers", "maxProducts", "maxSalesPerMonth"):
        huge = client.post(URL, {"name": "X", field: 65_895_558_814}, format="json")
        assert (huge.status_code, error(huge)["details"][0]["field"]) == (400, field)
    assert list(Package.objects.values()) == before
    assert audit_count() == audits


def test_a_package_in_use_cannot_be_deleted(api, super_admin, world_a):
    package = on_plan(world_a, max_stores=5)
    response = api(super_admin).delete(f"{URL}/{package.pk}")
    assert (response.status_code, error(response)["code"]) == (422, "IN_USE")
    assert error(response)["message"] == "1 company is on this package."
    assert Package.objects.filter(pk=package.pk).exists()
    assert audit_count(action="package.delete") == 0


def test_tenant_roles_cannot_manage_packages(api, world_a):
    package = Package.objects.create(name="Hidden")
    for user in (world_a.admin, world_a.manager, world_a.cashier):
        client = api(user)
        assert client.get(URL).status_code == 403
        response = client.patch(f"{URL}/{package.pk}", {"maxStores": 1}, format="json")
        assert (response.status_code, error(response)["code"]) == (403, "FORBIDDEN")
    assert Package.objects.get(pk=package.pk).max_stores is None


# --- a company's plan -----------------------------------------------------------------------------
def test_super_admin_moves_a_company_to_a_plan_audited_in_one_row(api, super_admin, world_a):
    package = Package.objects.create(name="Business", max_stores=10)
    response = api(super_admin).patch(
        f"/api/v1/super-admin/tenants/{world_a.tenant.pk}",
        {"packageId": str(package.pk), "legalName": "Acme Lda"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["package"] == {"id": str(package.pk), "name": "Business"}
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    assert (tenant.package_id, tenant.legal_name) == (package.pk, "Acme Lda")
    (row,) = AuditLog.objects.filter(
        action="tenant.update", entity_id=str(tenant.pk), created_at__gte=STARTED
    )
    assert row.actor_id == super_admin.pk
    assert row.before == {"package_id": None, "legal_name": ""}
    assert row.after == {"package_id": str(package.pk), "legal_name": "Acme Lda"}


def test_an_unknown_package_is_refused_and_nothing_changes(api, super_admin, world_a):
    response = api(super_admin).patch(
        f"/api/v1/super-admin/tenants/{world_a.tenant.pk}",
        {"packageId": "00000000-0000-0000-0000-000000000001", "legalName": "X"},
        format="json",
    )
    assert (response.status_code, error(response)["details"]) == (
        400,
        [{"field": "packageId", "message": "There is no such package."}],
    )
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    assert (tenant.package_id, tenant.legal_name) == (None, "")
    assert audit_count(action="tenant.update") == 0


def test_a_company_is_created_on_a_plan(api, super_admin):
    package = Package.objects.create(name="Starter", max_users=2)
    response = api(super_admin).post(
        "/api/v1/super-admin/tenants",
        {
            "name": "Corner Shop",
            "slug": "corner-shop",
            "ownerEmail": "owner@corner.test",
            "ownerPassword": PASSWORD,
            "ownerName": "Olive",
            "packageId": str(package.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["tenant"]["package"] == {
        "id": str(package.pk),
        "name": "Starter",
    }
    assert Tenant.objects.get(slug="corner-shop").package_id == package.pk


def test_the_plan_is_read_with_the_request_user_in_the_same_statement(world_a):
    package = on_plan(world_a, max_products=7)
    user = auth_user_get(user_id=world_a.cashier.pk)
    with CaptureQueriesContext(connection) as queries:
        assert (user.tenant.package.pk, user.tenant.package.max_products) == (package.pk, 7)
        assert user.tenant.package.features == ALL_FEATURES
    assert queries.captured_queries == []
    Tenant.objects.filter(pk=world_a.tenant.pk).update(package=None)
    with CaptureQueriesContext(connection) as queries:
        assert auth_user_get(user_id=world_a.cashier.pk).tenant.package is None
    assert len(queries.captured_queries) == 1


# --- limits at the boundary -----------------------------------------------------------------------
def test_store_and_warehouse_limits(api, world_a):
    on_plan(world_a, max_stores=3, max_warehouses=1)  # the company has S1, S2 and W1
    client = api(world_a.admin)
    third = client.post("/api/v1/stores", {"name": "Third", "code": "S3"}, format="json")
    assert third.status_code == 201, third.content
    fourth = client.post("/api/v1/stores", {"name": "Fourth", "code": "S4"}, format="json")
    assert (fourth.status_code, error(fourth)["code"]) == (422, "PLAN_LIMIT_REACHED")
    assert error(fourth)["details"] == [
        {
            "field": "stores",
            "message": "Plan limit of 3 stores reached.",
            "limit": 3,
            "usage": 3,
            "requested": 1,
        }
    ]
    depot = client.post(
        "/api/v1/stores", {"name": "Depot", "code": "W2", "kind": "WAREHOUSE"}, format="json"
    )
    assert (depot.status_code, error(depot)["details"][0]["usage"]) == (422, 1)
    # turning a store into a warehouse counts as a new warehouse
    turned = client.patch(
        f"/api/v1/stores/{world_a.other_store.pk}", {"kind": "WAREHOUSE"}, format="json"
    )
    assert (turned.status_code, error(turned)["details"][0]["field"]) == (422, "warehouses")
    with tenant_context(world_a.tenant):
        assert sorted(Store.objects.alive().values_list("code", "kind")) == [
            ("S1", "RETAIL"),
            ("S2", "RETAIL"),
            ("S3", "RETAIL"),
            ("W1", "WAREHOUSE"),
        ]
    assert audit_count(action="store.create") == 1
    assert audit_count(action="store.update") == 0


def test_user_limit_counts_active_staff_and_restoring_one(api, world_a):
    on_plan(world_a, max_users=3)  # admin, manager, cashier
    client = api(world_a.admin)
    body = {"email": "extra@acme.test", "password": PASSWORD, "name": "Extra", "role": "CASHIER"}
    refused = client.post("/api/v1/users", body, format="json")
    assert (refused.status_code, error(refused)["details"][0]["usage"]) == (422, 3)
    assert not User.objects.filter(email="extra@acme.test").exists()
    # one out of service: one place free, and putting them back needs it again
    assert client.delete(f"/api/v1/users/{world_a.cashier.pk}").status_code == 200
    created = client.post("/api/v1/users", body, format="json")
    assert created.status_code == 201, created.content
    restored = client.patch(f"/api/v1/users/{world_a.cashier.pk}/restore")
    assert (restored.status_code, error(restored)["code"]) == (422, "PLAN_LIMIT_REACHED")
    assert User.objects.get(pk=world_a.cashier.pk).is_active is False


def test_product_limit_for_one_product_and_for_an_import(api, world_a):
    with tenant_context(world_a.tenant):
        existing = Product.objects.alive().count()
    on_plan(world_a, max_products=existing + 2)
    client = api(world_a.admin)
    one = client.post("/api/v1/products", {"name": "One", "sku": "LIM-1"}, format="json")
    assert one.status_code == 201, one.content
    rows = [{"sku": f"LIM-{n}", "name": f"Item {n}", "sellPrice": "1.00"} for n in (2, 3)]
    dry = client.post(
        "/api/v1/products/bulk-import", {"rows": rows, "dryRun": True}, format="json"
    )  # a dry run says so too
    assert (dry.status_code, error(dry)["details"][0]["requested"]) == (422, 2)
    imported = client.post("/api/v1/products/bulk-import", {"rows": rows}, format="json")
    assert (imported.status_code, error(imported)["details"][0]) == (
        422,
        {
            "field": "products",
            "message": f"Plan limit of {existing + 2} products reached.",
            "limit": existing + 2,
            "usage": existing + 1,
            "requested": 2,
        },
    )
    with tenant_context(world_a.tenant):
        assert not Product.objects.filter(sku__in=["LIM-2", "LIM-3"]).exists()
    # an import that updates an existing product and adds one fits
    rows = [{"sku": "LIM-1", "name": "One renamed", "sellPrice": "1.00"}, rows[0]]
    fits = client.post("/api/v1/products/bulk-import", {"rows": rows}, format="json")
    assert fits.status_code == 200, fits.content
    assert fits.json()["data"]["productsCreated"] == 1


def test_monthly_sales_limit_refuses_the_checkout_and_writes_nothing(api, world_a, shelf):
    on_plan(world_a, max_sales_per_month=2)
    client = api(world_a.manager)
    body = {
        "storeId": str(world_a.store.pk),
        "items": [line(shelf.water)],
        "payments": [cash("0.80")],
    }
    for _ in range(2):
        assert client.post(CHECKOUT, body, format="json").status_code == 201
    with tenant_context(world_a.tenant):
        water = StockLevel.objects.get(product=shelf.water).quantity
    refused = client.post(CHECKOUT, body, format="json")
    assert (refused.status_code, error(refused)["details"][0]) == (
        422,
        {
            "field": "salesPerMonth",
            "message": "Plan limit of 2 sales this month reached.",
            "limit": 2,
            "usage": 2,
            "requested": 1,
        },
    )
    with tenant_context(world_a.tenant):
        assert Sale.objects.count() == 2
        assert StockLevel.objects.get(product=shelf.water).quantity == water == Decimal("18")
    assert audit_count(action="sale.checkout") == 2


def test_a_downgrade_below_usage_is_allowed_and_blocks_new_creates(api, super_admin, world_a):
    small = Package.objects.create(name="Tiny", max_stores=1)
    moved = api(super_admin).patch(
        f"/api/v1/super-admin/tenants/{world_a.tenant.pk}",
        {"packageId": str(small.pk)},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    client = api(world_a.admin)
    assert client.get(f"/api/v1/stores/{world_a.other_store.pk}").status_code == 200  # kept
    refused = client.post("/api/v1/stores", {"name": "More", "code": "S9"}, format="json")
    assert (refused.status_code, error(refused)["details"][0]["usage"]) == (422, 2)
    # an unlimited plan again: creates work
    Tenant.objects.filter(pk=world_a.tenant.pk).update(package=None)
    again = client.post("/api/v1/stores", {"name": "More", "code": "S9"}, format="json")
    assert again.status_code == 201, again.content


# --- features -------------------------------------------------------------------------------------
def test_features_not_in_the_plan_are_refused(api, world_a):
    on_plan(world_a, features=[])
    admin = api(world_a.admin)
    cases = [
        admin.get("/api/v1/analytics/top-products"),
        admin.get("/api/v1/reports/sales", {"format": "csv"}),
        admin.get("/api/v1/products", {"format": "csv"}),
        admin.post(
            "/api/v1/inventory/transfers",
            {
                "fromStoreId": str(world_a.store.pk),
                "toStoreId": str(world_a.warehouse.pk),
                "items": [{"productId": str(world_a.product.pk), "quantity": "1"}],
            },
            format="json",
        ),
        admin.patch("/api/v1/tenants/me/settings", {"loyaltyEnabled": True}, format="json"),
    ]
    assert [(r.status_code, error(r)["code"]) for r in cases] == [(403, "FEATURE_NOT_IN_PLAN")] * 5
    assert error(cases[0])["message"] == "Your plan (Plan 1) does not include analytics."
    # what the plan does not gate still works; a role without the permission gets FORBIDDEN
    assert admin.get("/api/v1/reports/sales").status_code == 200
    cashier = api(world_a.cashier).get("/api/v1/analytics/top-products")
    assert (cashier.status_code, error(cashier)["code"]) == (403, "FORBIDDEN")
    assert TenantSettings.objects.get(tenant=world_a.tenant).loyalty_enabled is False
    assert audit_count(action="tenant.settings.update") == 0


def test_a_file_outside_the_plan_is_refused_before_the_report_is_computed(api, world_a):
    on_plan(world_a, features=[])
    admin = api(world_a.admin)
    admin.get("/api/v1/reports/sales")  # the session's statements prepared
    with CaptureQueriesContext(connection) as queries:
        refused = admin.get("/api/v1/reports/sales", {"format": "csv"})
    assert (refused.status_code, error(refused)["code"]) == (403, "FEATURE_NOT_IN_PLAN")
    assert error(refused)["message"] == "Your plan (Plan 1) does not include exports."
    assert [q["sql"].split("(")[0].split("; ")[-1] for q in queries.captured_queries] == [
        "EXECUTE mipos_auth_user_v4"
    ]  # the user, read with the plan: no report query ran
    # a list's detail route has no file form: ?format= there is no export, and not refused as one
    product = admin.get(f"/api/v1/products/{world_a.product.pk}", {"format": "csv"})
    assert (product.status_code, product.json()["data"]["id"]) == (200, str(world_a.product.pk))


def test_features_in_the_plan_are_served(api, world_a):
    on_plan(world_a, features=["analytics", "exports"])
    admin = api(world_a.admin)
    assert admin.get("/api/v1/analytics/top-products").status_code == 200
    csv = admin.get("/api/v1/products", {"format": "csv"})
    assert (csv.status_code, csv["Content-Type"].split(";")[0]) == (200, "text/csv")


# --- the company's view ---------------------------------------------------------------------------
def test_the_company_sees_its_plan_limits_and_usage(api, world_a):
    with tenant_context(world_a.tenant):
        products = Product.objects.alive().count()
    package = on_plan(
        world_a, max_stores=4, max_users=10, features=["exports"], price=Decimal("29")
    )
    response = api(world_a.manager).get("/api/v1/tenants/me/subscription")
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {
        "package": {
            "id": str(package.pk),
            "name": package.name,
            "description": "",
            "price": "29.00",
            "currency": "USD",
            "billingPeriod": "MONTHLY",
        },
        "limits": {
            "stores": 4,
            "warehouses": None,
            "users": 10,
            "products": None,
            "salesPerMonth": None,
        },
        "usage": {
            "stores": 2,
            "warehouses": 1,
            "users": 3,
            "products": products,
            "salesPerMonth": 0,
        },
        "features": ["exports"],
        "requestsPerMinute": None,
    }
    cashier = api(world_a.cashier).get("/api/v1/tenants/me/subscription")
    assert (cashier.status_code, error(cashier)["code"]) == (403, "FORBIDDEN")


def test_a_company_without_a_plan_has_no_limits_and_every_feature(api, world_a):
    response = api(world_a.admin).get("/api/v1/tenants/me/subscription")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["package"], data["features"]) == (None, ALL_FEATURES)
    assert set(data["limits"].values()) == {None}


# --- the company's request rate -------------------------------------------------------------------
def test_the_plan_limits_the_whole_companys_requests_per_minute(api, world_a, world_b):
    on_plan(world_a, requests_per_minute=3)
    admin, manager = api(world_a.admin), api(world_a.manager)
    answers = [
        admin.get("/api/v1/stores").status_code,
        manager.get("/api/v1/stores").status_code,
        admin.get("/api/v1/stores").status_code,
    ]
    assert answers == [200, 200, 200]
    limited = manager.get("/api/v1/stores")  # the fourth of the company in this minute
    assert (limited.status_code, error(limited)["code"]) == (429, "RATE_LIMITED")
    assert 1 <= int(limited["Retry-After"]) <= 60
    # another company (no plan) is not affected
    assert api(world_b.admin).get("/api/v1/stores").status_code == 200
