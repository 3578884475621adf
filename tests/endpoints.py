"""The contract rows (docs/spec/endpoints.csv) and how tests call them: which modules are built,
and which real ids fill each path parameter."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from django.conf import settings

SPEC = Path(settings.BASE_DIR) / "docs" / "spec" / "endpoints.csv"
ROWS = list(csv.DictReader(SPEC.open()))
BUILT_MODULES = {
    "auth",
    "users",
    "stores",
    "tenants",
    "audit",
    "super-admin",
    "products",
    "categories",
    "inventory",
    "customers",
    "sales",
    "payments",
    "expenses",
    "suppliers",
    "purchases",
    "receipts",
    "reports",
}
PENDING = {(row["method"], row["path"]) for row in ROWS if row["module"] not in BUILT_MODULES}
BUILT = [row for row in ROWS if (row["method"], row["path"]) not in PENDING]
PARAM = re.compile(r":(\w+)")
ROLES = ["SUPER_ADMIN", "ADMIN", "MANAGER", "CASHIER"]


def row_id(row: dict) -> str:
    return f"{row['method']} {row['path']}"


def has_ids(row: dict) -> bool:
    return bool(PARAM.search(row["path"]))


def _a_transfer(world):
    """A transfer of `world`'s company (created in the calling test's transaction)."""
    from django_tenants.utils import tenant_context

    from apps.inventory.models import Transfer, TransferItem

    with tenant_context(world.tenant):
        transfer = Transfer.objects.first()
        if transfer is None:
            transfer = Transfer.objects.create(
                number=1, from_store=world.store, to_store=world.warehouse
            )
            TransferItem.objects.create(
                transfer=transfer, product=world.product, variant=world.variant, quantity=1
            )
        return transfer


def _a_customer(world):
    """A customer of `world`'s company (created in the calling test's transaction)."""
    from django_tenants.utils import tenant_context

    from apps.customers.models import Customer

    with tenant_context(world.tenant):
        return Customer.objects.alive().first() or Customer.objects.create(
            code="C-CONTRACT", name="Contract customer"
        )


def _a_customer_group(world):
    from django_tenants.utils import tenant_context

    from apps.customers.models import CustomerGroup

    with tenant_context(world.tenant):
        return CustomerGroup.objects.alive().first() or CustomerGroup.objects.create(
            name="Contract group", discount_percent=5
        )


def _a_sale(world):
    from django_tenants.utils import tenant_context

    from apps.sales.models import Sale
    from tests.factories.sales import sale_make

    with tenant_context(world.tenant):
        return Sale.objects.first() or sale_make(
            store=world.store, cashier_id=world.cashier.pk, product=world.product, sequence=800_001
        )


def _a_payment(world):
    from django_tenants.utils import tenant_context

    sale = _a_sale(world)
    with tenant_context(world.tenant):
        return sale.payments.first()


def _an_expense_category(world):
    from django_tenants.utils import tenant_context

    from apps.expenses.models import ExpenseCategory

    with tenant_context(world.tenant):
        return ExpenseCategory.objects.alive().first() or ExpenseCategory.objects.create(
            name="Contract category"
        )


def _an_expense(world):
    from datetime import date
    from decimal import Decimal

    from django_tenants.utils import tenant_context

    from apps.expenses.models import Expense

    category = _an_expense_category(world)
    with tenant_context(world.tenant):
        return Expense.objects.alive().first() or Expense.objects.create(
            category=category, amount=Decimal("10.00"), date=date(2026, 11, 1)
        )


def _a_supplier(world):
    from django_tenants.utils import tenant_context

    from apps.purchasing.models import Supplier

    with tenant_context(world.tenant):
        return Supplier.objects.alive().first() or Supplier.objects.create(name="Contract supplier")


def _a_purchase(world):
    from decimal import Decimal

    from django_tenants.utils import tenant_context

    from apps.purchasing.models import PurchaseOrder

    supplier = _a_supplier(world)
    with tenant_context(world.tenant):
        return PurchaseOrder.objects.first() or PurchaseOrder.objects.create(
            number="PO-900001", sequence=900_001, supplier=supplier, store=world.store,
            total=Decimal("0.00"),
        )  # fmt: skip


def path_for(row: dict, world) -> str:
    """The row's path with its parameters filled with ids of `world` (a conftest TenantWorld)."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if row["module"] == "stores":
            return str(world.store.pk)
        if row["module"] == "categories":
            return str(world.category.pk)
        if row["module"] == "products":
            return {
                "id": str(world.product.pk),
                "variantId": str(world.variant.pk),
                "barcode": world.product.barcode,
            }[name]
        if row["module"] == "inventory":
            if name == "id":
                return str(_a_transfer(world).pk)
            return {"storeId": str(world.store.pk), "productId": str(world.product.pk)}[name]
        if row["module"] in ("sales", "receipts"):
            return str(_a_sale(world).pk)
        if row["module"] == "payments":
            if name == "customerId":
                return str(_a_customer(world).pk)
            return str(_a_payment(world).pk)
        if row["module"] == "suppliers":
            return str(_a_supplier(world).pk)
        if row["module"] == "purchases":
            return str(_a_purchase(world).pk)
        if row["module"] == "expenses":
            if row["path"].startswith("/api/v1/expenses/categories/"):
                return str(_an_expense_category(world).pk)
            return str(_an_expense(world).pk)
        if row["module"] == "customers" and name == "id":
            if row["path"].startswith("/api/v1/customers/groups/"):
                return str(_a_customer_group(world).pk)
            return str(_a_customer(world).pk)
        if name in ("id", "userId") and row["module"] in ("users", "super-admin"):
            return str(world.cashier.pk)
        raise KeyError(f"no test id for :{name} in {row_id(row)}")

    return PARAM.sub(value, row["path"])
