from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.tenants.models import Tenant
from apps.users.models import User

pytestmark = pytest.mark.django_db


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
        "apps.tenants.management.commands.seed_demo.products_bulk_import", broken_import
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    assert err.getvalue().strip() == "Demo data: skipped catalogue: import exploded"
    assert "cashier2@demo.mipos.local" in out.getvalue()
