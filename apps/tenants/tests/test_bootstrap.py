from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.tenants.models import Tenant
from apps.users.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seed_demo: ~7 s a run


def test_createsuperuser_noinput_creates_a_super_admin_without_tenant(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Ops@Platform.Test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Ops-secret-2026")
    call_command("createsuperuser", "--noinput", stdout=io.StringIO())
    user = User.objects.get(email="ops@platform.test")
    assert (user.role, user.tenant_id, user.is_staff) == ("SUPER_ADMIN", None, True)
    assert user.check_password("Ops-secret-2026")


def test_seed_demo_is_idempotent_and_prints_the_logins(worlds):
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    counts = (Tenant.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=second)
    assert (Tenant.objects.count(), User.objects.count()) == counts
    demo = Tenant.objects.get(slug="demo")
    assert User.objects.get(email="admin@demo.mipos.local").tenant == demo
    output = second.getvalue()
    assert "admin@demo.mipos.local" in output and "Admin-pass-2026" in output
    assert "root@mipos.local" in output
    assert "Customers: 60 in 3 groups" in output
    assert "Sales: " in output and " over the last 14 days (" in output
    assert "Shifts: " in output and " closed with a Z report, 1 open" in output
    assert "Expenses: " in output and " in 5 categories" in output
    assert "Purchasing: 3 suppliers, 6 purchase orders" in output
    assert "Plan: Business; packages: Starter, Business, Enterprise" in output
    # the three plans once, and the demo company within its plan's limits
    from apps.tenants.models import Package
    from apps.tenants.selectors import subscription_get

    assert list(Package.objects.values_list("name", "max_stores", "max_products")) == [
        ("Starter", 1, 500),
        ("Business", 5, 5000),
        ("Enterprise", None, None),
    ]
    assert demo.package.name == "Business"
    from django_tenants.utils import tenant_context

    with tenant_context(demo):
        subscription = subscription_get(tenant=demo)
    limits, usage = subscription["limits"], subscription["usage"]
    assert all(usage[name] <= limit for name, limit in limits.items()), (limits, usage)


def test_seed_demo_sales_are_consistent(worlds):
    from django_tenants.utils import tenant_context

    from apps.customers.tests.conftest import mismatches
    from apps.inventory.tests.conftest import ledger_mismatches
    from apps.sales.models import Sale, SaleReturn

    err = io.StringIO()
    call_command("seed_demo", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""
    with tenant_context(Tenant.objects.get(slug="demo")):
        assert Sale.objects.count() >= 100
        assert Sale.objects.filter(status="VOIDED").exists()
        assert SaleReturn.objects.exists()
        # two weeks and today (today's made in the part of the day gone by: none in its first
        # 35 minutes, UTC)
        from django.utils import timezone

        now = timezone.now()
        early = now - now.replace(hour=0, minute=0, second=0, microsecond=0) < timedelta(minutes=36)
        assert Sale.objects.dates("created_at", "day").count() == (14 if early else 15)
        assert ledger_mismatches() == [] and mismatches() == []
        # every demo sale was made in a shift; every closed shift has its Z report; cashier1's
        # shift of today is open
        from apps.pos.models import Shift, ZReport
        from apps.users.models import User

        assert not Sale.objects.filter(shift__isnull=True).exists()
        closed = Shift.objects.filter(status="CLOSED")
        assert closed.count() == ZReport.objects.count() >= 28
        (still_open,) = Shift.objects.filter(status="OPEN")
        assert still_open.cashier_id == User.objects.get(email="cashier1@demo.mipos.local").pk
        assert all(s.variance in (Decimal("0.00"), Decimal("-0.50")) for s in closed)
        # purchase orders in every state; what is owed to the suppliers matches their ledgers
        from apps.purchasing.models import PurchaseOrder, Supplier
        from apps.purchasing.selectors import supplier_ledger

        assert set(PurchaseOrder.objects.values_list("status", flat=True)) == {
            "ORDERED", "PARTIALLY_RECEIVED", "RECEIVED", "CANCELLED",
        }  # fmt: skip
        assert PurchaseOrder.objects.filter(closed_short=True).count() == 1
        for supplier in Supplier.objects.all():
            ledger = supplier_ledger(supplier)
            assert supplier.balance == (ledger[-1]["balance"] if ledger else 0)


def test_seed_demo_customers_agree_with_their_ledgers(worlds):
    from django_tenants.utils import tenant_context

    from apps.customers.models import Customer, CustomerLedgerEntry, LoyaltyEntry
    from apps.customers.tests.conftest import mismatches

    call_command("seed_demo", stdout=io.StringIO())
    with tenant_context(Tenant.objects.get(slug="demo")):
        assert mismatches() == []
        # opening balances: 10 owing, 10 holding store credit; 30 with points
        openings = CustomerLedgerEntry.objects.filter(type="ADJUSTMENT")
        assert (openings.filter(amount__gt=0).count(), openings.filter(amount__lt=0).count()) == (
            10,
            10,
        )
        assert LoyaltyEntry.objects.filter(type="ADJUST").count() == 30
        assert Customer.objects.filter(group__isnull=False).count() == 12


def test_the_template_tenant_exists_and_is_hidden(worlds):
    template = Tenant.objects.get(is_template=True)
    assert template.schema_name == "tenant_template"


def test_seed_demo_survives_edited_demo_data(worlds):
    """The owner changed their email and a demo store was deleted: the run command still starts,
    the store comes back, and the printed logins say which one no longer works."""
    from django_tenants.utils import tenant_context

    from apps.stores.models import Store

    call_command("seed_demo", stdout=io.StringIO())
    demo = Tenant.objects.get(slug="demo")
    owner = User.objects.get(email="admin@demo.mipos.local")
    User.objects.filter(pk=owner.pk).update(email="boss@demo.example")
    with tenant_context(demo):
        Store.objects.filter(code="MALL").update(deleted_at="2026-01-01T00:00:00Z")
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    admin_line = next(line for line in lines if "admin@demo.mipos.local" in line)
    assert admin_line.endswith("(no longer exists: edited since seeding)")
    assert User.objects.get(pk=owner.pk).email == "boss@demo.example"
    with tenant_context(demo):
        assert Store.objects.alive().filter(code="MALL").count() == 1
    assert err.getvalue() == ""


def test_seed_demo_reports_a_failing_step_and_goes_on(worlds, monkeypatch):
    from django_tenants.utils import tenant_context

    from apps.catalog.models import Product

    call_command("seed_demo", stdout=io.StringIO())
    demo = Tenant.objects.get(slug="demo")
    with tenant_context(demo):  # the catalogue is gone (soft-deleted): the next run imports it
        Product.objects.update(deleted_at="2026-01-01T00:00:00Z")

    def broken_import(**kwargs):
        raise RuntimeError("import exploded")

    monkeypatch.setattr(
        "apps.devtools.management.commands.seed_demo.products_bulk_import", broken_import
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    assert err.getvalue().strip() == "Demo data: skipped catalogue: import exploded"
    assert "cashier2@demo.mipos.local" in out.getvalue()


def test_seed_demo_data_agrees_with_its_own_dates(worlds, api):
    """Issue 25, point 10: the demo company is set up (opening stock, transfers, purchases) the
    day before its first backdated sale, so the reports replayed from the ledger see its stock
    first; the drawer of today's open shift holds its float and the cash taken in it, no more."""
    from datetime import datetime

    from django.db.models import Sum
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.inventory.models import StockMovement
    from apps.pos.models import Shift
    from apps.sales.models import Payment, Sale
    from apps.stores.models import Store

    call_command("seed_demo", stdout=io.StringIO())
    demo = Tenant.objects.get(slug="demo")
    admin = api(User.objects.get(email="admin@demo.mipos.local"))
    today = timezone.localdate()
    with tenant_context(demo):
        first_sale = Sale.objects.order_by("created_at").values_list("created_at", flat=True)[0]
        set_up = StockMovement.objects.exclude(type__in=["SALE", "VOID", "RETURN"])
        assert set_up.order_by("-created_at")[0].created_at < first_sale
        assert demo.settings.country == "PT"

        # the stock as of three days ago: every location holds what its ledger says, > 0
        as_of = (today - timedelta(days=3)).isoformat()
        response = admin.get("/api/v1/reports/stock", {"asOf": as_of})
        assert response.status_code == 200, response.content
        report = response.json()["data"]
        instant = datetime.fromisoformat(report["asOf"])
    with tenant_context(demo):  # (each request leaves the connection in the public schema)
        ledger = {
            str(row["store_id"]): row["quantity"]
            for row in StockMovement.objects.filter(created_at__lt=instant)
            .values("store_id")
            .annotate(quantity=Sum("delta"))
        }
        shown = {row["storeId"]: Decimal(row["quantity"]) for row in report["byLocation"]}
    assert shown == ledger and len(shown) == 3
    assert all(quantity > 0 for quantity in shown.values()), shown

    # no item's quantity ever went below zero in the ledger, anywhere
    with tenant_context(demo):
        running: dict[tuple, Decimal] = {}
        negative = []
        for movement in StockMovement.objects.order_by("created_at", "id").values(
            "store_id", "product_id", "variant_id", "delta", "created_at"
        ):
            key = (movement["store_id"], movement["product_id"], movement["variant_id"])
            running[key] = running.get(key, Decimal(0)) + movement["delta"]
            if running[key] < 0:
                negative.append(movement)
        assert negative == []
        stores = [None, *Store.objects.filter(code__in=["DT", "MALL"]).values_list("pk", flat=True)]
        (shift,) = Shift.objects.filter(status="OPEN")

    # the inventory report over the seeded period and within it: no negative stock
    first_day = (today - timedelta(days=14)).isoformat()
    for to in (today - timedelta(days=3), today):
        for store_id in stores:
            query = {"from": first_day, "to": to.isoformat()}
            if store_id is not None:
                query["storeId"] = str(store_id)
            response = admin.get("/api/v1/reports/inventory", query)
            assert response.status_code == 200, response.content
            rows = response.json()["data"]["products"]
            assert rows and all(
                Decimal(row["opening"]) >= 0 and Decimal(row["closing"]) >= 0 for row in rows
            ), [row for row in rows if Decimal(row["closing"]) < 0]

    # today's open shift: its float plus the cash of the sales made in it; every cash payment at
    # that store while it is open is in it, and only those
    response = admin.get(f"/api/v1/pos/shifts/{shift.pk}/x-report")
    assert response.status_code == 200, response.content
    x_report = response.json()["data"]
    with tenant_context(demo):
        cash = Payment.objects.filter(method="CASH")
        in_shift = cash.filter(shift=shift)
        assert set(in_shift.values_list("pk", flat=True)) == set(
            cash.filter(store=shift.store, created_at__gte=shift.opened_at).values_list(
                "pk", flat=True
            )
        )
        sales_cash = in_shift.filter(kind__in=["SALE", "CHANGE"], sale__shift=shift)
        given_back = in_shift.exclude(kind__in=["SALE", "CHANGE"])
        assert sales_cash.count() + given_back.count() == in_shift.count()
        taken = sales_cash.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        back = given_back.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        assert Decimal(x_report["expectedCash"]) == shift.opening_float + taken + back
        assert Decimal(x_report["cashSales"]) == taken
        assert not Sale.objects.filter(shift=shift, created_at__lt=shift.opened_at).exists()
