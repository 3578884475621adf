"""Every write endpoint built so far leaves exactly one audit row, in the same transaction, with
the right actor, entity and changed fields (before/after). Each case: who calls, what, and the
row expected. A sanity check makes sure every write row of the contract has a case here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.users.models import User
from apps.users.tokens import token_pair_issue
from conftest import PASSWORD, bearer
from tests.endpoints import BUILT

NEW_PASSWORD = "Another-pass-2026"
ANY = object()  # before/after not checked (e.g. entirely new tokens)


@dataclass
class Case:
    caller: str  # "admin" | "manager" | "cashier" | "super" | "anonymous"
    method: str
    path: str  # contract path; {cashier} {store} {tenant} placeholders
    body: Callable[[object], dict] | dict = field(default_factory=dict)
    action: str = ""
    entity: str = ""  # "cashier" | "store" | "tenant" | "caller" | "new"
    before: object = None
    after: object = None
    query: str = ""
    setup: Callable | None = None


AUDITED_PLAN = uuid.UUID(int=77)


def audited_plan():
    from apps.tenants.models import Package

    Package.objects.create(id=AUDITED_PLAN, name="Plan for the audit")


def deactivate_cashier(world):
    User.objects.filter(pk=world.cashier.pk).update(is_active=False)


def soft_delete_cashier(world):
    from django.utils import timezone

    User.objects.filter(pk=world.cashier.pk).update(is_active=False, deleted_at=timezone.now())


def _stocked_transfer(world, *steps: str):
    """Stock of the world's variant in its store and a transfer of 2 of it to the warehouse,
    taken through `steps` (ship, receive, cancel): the setup of a transfer action's case."""
    from decimal import Decimal

    from apps.inventory import services

    with tenant_context(world.tenant):
        services.stock_adjust(
            actor=world.admin,
            store_id=world.store.pk,
            reason="FOUND",
            items=[services.AdjustItem(world.product.pk, world.variant.pk, Decimal("10"))],
        )
        transfer = services.transfer_create(
            actor=world.admin,
            from_store_id=world.store.pk,
            to_store_id=world.warehouse.pk,
            items=[services.TransferLine(world.product.pk, world.variant.pk, Decimal("2"))],
        )
        for step in steps:
            getattr(services, f"transfer_{step}")(actor=world.admin, transfer_id=transfer.pk)


def transfer_id(world) -> str:
    from apps.inventory.models import Transfer

    with tenant_context(world.tenant):
        return str(Transfer.objects.get().pk)


def _customer_and_group(world) -> None:
    """A customer "Ana" (no points, owes nothing) and an empty group "VIP" (5 %)."""
    from apps.customers.models import Customer, CustomerGroup

    with tenant_context(world.tenant):
        Customer.objects.create(code="C-000900", name="Ana")
        CustomerGroup.objects.create(name="VIP", discount_percent=5)


def _customer_owing(world, amount: str) -> None:
    from decimal import Decimal

    from apps.customers.models import Customer, CustomerLedgerEntry

    _customer_and_group(world)
    with tenant_context(world.tenant):
        customer = Customer.objects.get(code="C-000900")
        Customer.objects.filter(pk=customer.pk).update(balance=Decimal(amount))
        CustomerLedgerEntry.objects.create(
            customer=customer, type="ADJUSTMENT", amount=Decimal(amount),
            balance_after=Decimal(amount),
        )  # fmt: skip


def customer_id(world) -> str:
    from apps.customers.models import Customer

    with tenant_context(world.tenant):
        return str(Customer.objects.get(code="C-000900").pk)


def customer_group_id(world) -> str:
    from apps.customers.models import CustomerGroup

    with tenant_context(world.tenant):
        return str(CustomerGroup.objects.get(name="VIP").pk)


def _stocked_variant(world) -> None:
    from decimal import Decimal

    from apps.inventory import services

    with tenant_context(world.tenant):
        services.stock_adjust(
            actor=world.admin,
            store_id=world.store.pk,
            reason="FOUND",
            items=[services.AdjustItem(world.product.pk, world.variant.pk, Decimal("10"))],
        )


def _a_sale(world) -> None:
    from tests.factories.sales import sale_make

    with tenant_context(world.tenant):
        sale_make(store=world.store, cashier_id=world.cashier.pk, product=world.product, sequence=1)


def sale_id(world) -> str:
    from apps.sales.models import Sale

    with tenant_context(world.tenant):
        return str(Sale.objects.get().pk)


def sale_item_id(world) -> str:
    from apps.sales.models import SaleItem

    with tenant_context(world.tenant):
        return str(SaleItem.objects.get().pk)


def _open_shift(world) -> None:
    from apps.pos.models import Shift

    with tenant_context(world.tenant):
        Shift.objects.create(
            store=world.store, cashier_id=world.cashier.pk, opening_float=Decimal("100.00")
        )


def shift_id(world) -> str:
    from apps.pos.models import Shift

    with tenant_context(world.tenant):
        return str(Shift.objects.get().pk)


def _parked_cart(world) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.pos.models import ParkedCart

    with tenant_context(world.tenant):
        ParkedCart.objects.create(
            store=world.store, label="Table 4", cart={"items": []}, created_by=world.cashier.pk,
            expires_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip


def cart_id(world) -> str:
    from apps.pos.models import ParkedCart

    with tenant_context(world.tenant):
        return str(ParkedCart.objects.get().pk)


def _expense(world) -> None:
    from datetime import date

    from apps.expenses.models import Expense, ExpenseCategory

    with tenant_context(world.tenant):
        rent = ExpenseCategory.objects.create(name="Rent")
        ExpenseCategory.objects.create(name="Unused")
        Expense.objects.create(
            category=rent, store=world.store, amount=Decimal("800.00"), date=date(2026, 11, 1)
        )


def expense_id(world) -> str:
    from apps.expenses.models import Expense

    with tenant_context(world.tenant):
        return str(Expense.objects.get().pk)


def expense_category_id(world, name: str = "Unused") -> str:
    from apps.expenses.models import ExpenseCategory

    with tenant_context(world.tenant):
        return str(ExpenseCategory.objects.get(name=name).pk)


def _purchase(world) -> None:
    """Supplier "Acme Foods", an ORDERED order of 4 of the world's variant at 2.5000."""
    from apps.purchasing.models import PurchaseOrder, PurchaseOrderItem, Supplier

    with tenant_context(world.tenant):
        supplier = Supplier.objects.create(name="Acme Foods")
        order = PurchaseOrder.objects.create(
            number="PO-000001", sequence=1, supplier=supplier, store=world.store,
            total=Decimal("10.00"),
        )  # fmt: skip
        PurchaseOrderItem.objects.create(
            order=order, position=0, product=world.product, variant=world.variant,
            quantity=Decimal("4"), unit_cost=Decimal("2.5000"), line_total=Decimal("10.00"),
        )  # fmt: skip


def supplier_id(world) -> str:
    from apps.purchasing.models import Supplier

    with tenant_context(world.tenant):
        return str(Supplier.objects.get().pk)


def purchase_id(world) -> str:
    from apps.purchasing.models import PurchaseOrder

    with tenant_context(world.tenant):
        return str(PurchaseOrder.objects.get().pk)


def purchase_item_id(world) -> str:
    from apps.purchasing.models import PurchaseOrderItem

    with tenant_context(world.tenant):
        return str(PurchaseOrderItem.objects.get().pk)


def _supplier_only(world) -> None:
    from apps.purchasing.models import Supplier

    with tenant_context(world.tenant):
        Supplier.objects.create(name="Acme Foods")


def _item(world, **values) -> dict:
    return {"productId": str(world.product.pk), "variantId": str(world.variant.pk), **values}


CASES = {
    "login": Case(
        "anonymous",
        "POST",
        "/api/auth/login",
        lambda w: {"email": w.cashier.email, "password": PASSWORD},
        "auth.login",
        "cashier",
    ),
    "refresh": Case(
        "anonymous",
        "POST",
        "/api/auth/refresh",
        lambda w: {"refreshToken": token_pair_issue(user=w.cashier).refresh},
        "auth.refresh",
        "cashier",
    ),
    "logout": Case(
        "cashier",
        "POST",
        "/api/auth/logout",
        lambda w: {"refreshToken": token_pair_issue(user=w.cashier).refresh},
        "auth.logout",
        "caller",
    ),
    "logout-all": Case("cashier", "POST", "/api/auth/logout-all", {}, "auth.logout_all", "caller"),
    "change-password": Case(
        "cashier",
        "PATCH",
        "/api/auth/change-password",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        "auth.change_password",
        "caller",
    ),
    "users-me": Case(
        "cashier",
        "PATCH",
        "/api/v1/users/me",
        {"name": "Cassie"},
        "user.update_profile",
        "caller",
        {"name": "Cashier acme"},
        {"name": "Cassie"},
    ),
    "users-me-pin": Case(  # the approval PIN (issue 25): the digits never in the row
        "manager",
        "PUT",
        "/api/v1/users/me/pin",
        {"pin": "2580", "currentPassword": PASSWORD},
        "user.pin_set",
        "caller",
    ),
    "users-create": Case(
        "manager",
        "POST",
        "/api/v1/users",
        lambda w: {
            "email": "n@acme.test",
            "password": NEW_PASSWORD,
            "name": "N",
            "role": "CASHIER",
            "storeIds": [str(w.store.pk)],
        },
        "user.create",
        "new",
        None,
        lambda w, new: {
            "email": "n@acme.test",
            "name": "N",
            "phone": "",
            "avatar_url": "",
            "role": "CASHIER",
            "is_active": True,
            "store_ids": [str(w.store.pk)],
        },
    ),
    "users-update": Case(
        "manager",
        "PATCH",
        "/api/v1/users/{cashier}",
        {"phone": "+1 555"},
        "user.update",
        "cashier",
        {"phone": ""},
        {"phone": "+1 555"},
    ),
    "users-reset": Case(
        "admin",
        "POST",
        "/api/v1/users/{cashier}/reset-password",
        {"newPassword": NEW_PASSWORD},
        "user.reset_password",
        "cashier",
    ),
    "users-deactivate": Case(
        "admin",
        "DELETE",
        "/api/v1/users/{cashier}",
        {},
        "user.deactivate",
        "cashier",
        {"is_active": True},
        {"is_active": False},
    ),
    "users-restore": Case(
        "admin",
        "PATCH",
        "/api/v1/users/{cashier}/restore",
        {},
        "user.restore",
        "cashier",
        {"is_active": False},
        {"is_active": True},
        setup=deactivate_cashier,
    ),
    "stores-create": Case(
        "manager",
        "POST",
        "/api/v1/stores",
        {"name": "New", "code": "N1"},
        "store.create",
        "new",
        None,
        {
            "name": "New",
            "code": "N1",
            "kind": "RETAIL",
            "address": "",
            "phone": "",
            "email": "",
            "timezone": "",
            "receipt_header": "",
        },
    ),
    "stores-update": Case(
        "manager",
        "PATCH",
        "/api/v1/stores/{store}",
        {"name": "Renamed"},
        "store.update",
        "store",
        {"name": "acme S1"},
        {"name": "Renamed"},
    ),
    "stores-delete": Case(
        "admin",
        "DELETE",
        "/api/v1/stores/{store}",
        {},
        "store.delete",
        "store",
        {"deleted": False},
        {"deleted": True},
    ),
    "tenant-update": Case(
        "admin",
        "PATCH",
        "/api/v1/tenants/me",
        {"taxId": "T-1"},
        "tenant.update",
        "tenant",
        {"tax_id": ""},
        {"tax_id": "T-1"},
    ),
    "tenant-settings": Case(
        "admin",
        "PATCH",
        "/api/v1/tenants/me/settings",
        {"currency": "EUR"},
        "tenant.settings.update",
        "tenant",
        {"currency": "USD"},
        {"currency": "EUR"},
    ),
    "receipt-template": Case(
        "manager",
        "PUT",
        "/api/v1/receipts/template",
        {"footer": "See you soon", "paper": "58mm"},
        "tenant.settings.update",  # the company's template is part of its settings
        "tenant",
        {"receipt_footer": "", "receipt_paper_width_mm": 80},
        {"receipt_footer": "See you soon", "receipt_paper_width_mm": 58},
    ),
    "receipt-email": Case(
        "cashier",
        "POST",
        "/api/v1/receipts/sale/{sale}/email",
        {"to": "customer@receipts.test"},
        "receipt.email",
        "sale",
        None,
        lambda world, entry: {
            "document": "SALE",
            "number": "INV-S1-000001",
            "to": "customer@receipts.test",
            "print_number": 1,
            "gift": False,
        },
        setup=_a_sale,
    ),
    "sa-admins-create": Case(
        "super",
        "POST",
        "/api/v1/super-admin/admins",
        {"email": "ops@platform.test", "password": NEW_PASSWORD, "name": "Ops"},
        "user.create",
        "new",
        None,
        {"email": "ops@platform.test", "name": "Ops", "role": "SUPER_ADMIN"},
    ),
    "sa-users-delete": Case(
        "super",
        "DELETE",
        "/api/v1/super-admin/users/{cashier}",
        {},
        "user.delete",
        "cashier",
        {"deleted": False, "is_active": True},
        {"deleted": True, "is_active": False},
    ),
    "sa-users-restore": Case(
        "super",
        "PATCH",
        "/api/v1/super-admin/users/{cashier}/restore",
        {},
        "user.restore",
        "cashier",
        {"deleted": True, "is_active": False},
        {"deleted": False, "is_active": True},
        setup=soft_delete_cashier,
    ),
    "sa-users-hard": Case(
        "super",
        "DELETE",
        "/api/v1/super-admin/users/{cashier}/hard",
        {},
        "user.hard_delete",
        "cashier",
        None,
        {"outcome": "deleted"},
    ),
    "sa-users-bulk": Case(
        "super",
        "POST",
        "/api/v1/super-admin/users/bulk",
        lambda w: {"action": "deactivate", "userIds": [str(w.cashier.pk)]},
        "user.deactivate",
        "cashier",
        {"is_active": True},
        {"is_active": False},
    ),
    "sa-users-reset": Case(
        "super",
        "POST",
        "/api/v1/super-admin/users/{cashier}/reset-password",
        {"newPassword": NEW_PASSWORD},
        "user.reset_password",
        "cashier",
    ),
    "products-create": Case(
        "manager",
        "POST",
        "/api/v1/products",
        {"name": "Tea", "sku": "T-1", "sellPrice": "2.00"},
        "product.create",
        "new",
        None,
        {
            "name": "Tea",
            "sku": "T-1",
            "barcode": None,
            "description": "",
            "category_id": None,
            "brand_id": None,
            "unit_id": None,
            "status": "DRAFT",
            "cost_price": "0.00",
            "sell_price": "2.00",
            "tax_rate": None,
            "track_stock": True,
            "attributes": {},
        },
    ),
    "products-update": Case(
        "manager",
        "PATCH",
        "/api/v1/products/{product}",
        {"sellPrice": "1.30"},
        "product.update",
        "product",
        {"sell_price": "1.20"},
        {"sell_price": "1.30"},
    ),
    "products-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/products/{product}",
        {},
        "product.delete",
        "product",
        {"deleted": False},
        {"deleted": True, "variants_deleted": 1},
    ),
    "variants-create": Case(
        "manager",
        "POST",
        "/api/v1/products/{product}/variants",
        lambda w: {"sku": "P-100-L", "valueIds": [value_id(w, "L")]},
        "product.variant.create",
        "new-variant",
        None,
        ANY,
    ),
    "variants-update": Case(
        "manager",
        "PATCH",
        "/api/v1/products/{product}/variants/{variant}",
        {"price": "1.60"},
        "product.variant.update",
        "variant",
        {"price": "1.50"},
        {"price": "1.60"},
    ),
    "variants-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/products/{product}/variants/{variant}",
        {},
        "product.variant.delete",
        "variant",
        {"deleted": False},
        {"deleted": True},
    ),
    "categories-create": Case(
        "manager",
        "POST",
        "/api/v1/products/categories",
        {"name": "Snacks"},
        "category.create",
        "new",
        None,
        {"name": "Snacks", "parent_id": None, "description": "", "position": 0},
    ),
    "categories-update": Case(
        "manager",
        "PATCH",
        "/api/v1/products/categories/{category}",
        {"name": "Beverages"},
        "category.update",
        "category",
        {"name": "Drinks"},
        {"name": "Beverages"},
    ),
    "categories-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/products/categories/{subcategory}",
        {},
        "category.delete",
        "subcategory",
        {"deleted": False},
        {"deleted": True, "reassigned_to": None, "children": 0, "products": 0},
    ),
    "bulk-import": Case(
        "manager",
        "POST",
        "/api/v1/products/bulk-import",
        [{"sku": "B-1", "name": "Bulk"}],
        "product.bulk_import",
        "none",
        None,
        {
            "rows": 1,
            "products_created": 1,
            "products_updated": 0,
            "variants_created": 0,
            "variants_updated": 0,
            "failed_rows": 0,
        },
    ),
    "sa-tenants-create": Case(
        "super",
        "POST",
        "/api/v1/super-admin/tenants",
        {
            "name": "Zed",
            "slug": "zed",
            "ownerEmail": "o@zed.test",
            "ownerPassword": NEW_PASSWORD,
            "ownerName": "O",
        },
        "tenant.create",
        "new",
        None,
        ANY,
    ),
    "sa-tenants-update": Case(
        "super",
        "PATCH",
        "/api/v1/super-admin/tenants/{tenant}",
        {"phone": "12"},
        "tenant.update",
        "tenant",
        {"phone": ""},
        {"phone": "12"},
    ),
    "sa-packages-create": Case(
        "super",
        "POST",
        "/api/v1/super-admin/packages",
        {"name": "Audited plan", "maxUsers": 4, "features": ["exports"]},
        "package.create",
        "new",
        None,
        {
            "name": "Audited plan",
            "price": "0.00",
            "currency": "USD",
            "billing_period": "MONTHLY",
            "max_stores": None,
            "max_warehouses": None,
            "max_users": 4,
            "max_products": None,
            "max_sales_per_month": None,
            "features": ["exports"],
            "requests_per_minute": None,
        },
    ),
    "sa-tenants-plan": Case(
        "super",
        "PATCH",
        "/api/v1/super-admin/tenants/{tenant}",
        {"packageId": str(AUDITED_PLAN)},
        "tenant.update",
        "tenant",
        {"package_id": None},
        {"package_id": str(AUDITED_PLAN)},
        setup=lambda w: audited_plan(),
    ),
    "sa-tenants-suspend": Case(
        "super",
        "POST",
        "/api/v1/super-admin/tenants/{tenant}/suspend",
        {},
        "tenant.suspend",
        "tenant",
        {"status": "ACTIVE"},
        {"status": "SUSPENDED"},
    ),
    "stock-adjust": Case(
        "manager",
        "POST",
        "/api/v1/inventory/stock/adjust",
        lambda w: {"storeId": str(w.store.pk), "reason": "FOUND", "items": [_item(w, delta="5")]},
        "stock.adjust",
        "store",
        None,
        lambda w, e: {"reason": "FOUND", "items": [_item(w, delta="5", quantity="5")]},
    ),
    "stock-set": Case(
        "manager",
        "POST",
        "/api/v1/inventory/stock/set",
        lambda w: {"storeId": str(w.store.pk), "note": "Count", "items": [_item(w, quantity="7")]},
        "stock.set",
        "store",
        None,
        lambda w, e: {"note": "Count", "items": [_item(w, delta="7", quantity="7")]},
    ),
    "stock-threshold": Case(
        "manager",
        "PATCH",
        "/api/v1/inventory/stock/{store}/{product}/threshold",
        lambda w: {"threshold": "4", "variantId": str(w.variant.pk)},
        "stock.threshold",
        "store",
        {"lowStockThreshold": None},
        lambda w, e: _item(w, lowStockThreshold="4"),
    ),
    "transfers-create": Case(
        "manager",
        "POST",
        "/api/v1/inventory/transfers",
        lambda w: {
            "fromStoreId": str(w.store.pk),
            "toStoreId": str(w.warehouse.pk),
            "items": [_item(w, quantity="1")],
        },
        "transfer.create",
        "new",
        None,
        lambda w, e: {
            "number": 1,
            "fromStoreId": str(w.store.pk),
            "toStoreId": str(w.warehouse.pk),
            "items": 1,
        },
    ),
    "transfers-ship": Case(
        "manager",
        "POST",
        "/api/v1/inventory/transfers/{transfer}/ship",
        {},
        "transfer.ship",
        "transfer",
        {"status": "PENDING"},
        {"status": "IN_TRANSIT"},
        setup=lambda w: _stocked_transfer(w),
    ),
    "transfers-receive": Case(
        "manager",
        "POST",
        "/api/v1/inventory/transfers/{transfer}/receive",
        {},
        "transfer.receive",
        "transfer",
        {"status": "IN_TRANSIT"},
        {"status": "COMPLETED"},
        setup=lambda w: _stocked_transfer(w, "ship"),
    ),
    "transfers-cancel": Case(
        "manager",
        "POST",
        "/api/v1/inventory/transfers/{transfer}/cancel",
        {},
        "transfer.cancel",
        "transfer",
        {"status": "PENDING"},
        {"status": "CANCELLED"},
        setup=lambda w: _stocked_transfer(w),
    ),
    "customers-create": Case(
        "cashier",
        "POST",
        "/api/v1/customers",
        {"name": "Bruno", "email": "bruno@example.com"},
        "customer.create",
        "new",
        None,
        {
            "code": "C-000001",
            "name": "Bruno",
            "email": "bruno@example.com",
            "phone": "",
            "tax_id": "",
            "address": "",
            "notes": "",
            "group_id": None,
            "credit_limit": "0.00",
        },
    ),
    "customers-update": Case(
        "manager",
        "PATCH",
        "/api/v1/customers/{customer}",
        {"name": "Ana Maria", "creditLimit": "20.00"},
        "customer.update",
        "customer",
        {"name": "Ana", "credit_limit": "0.00"},
        {"name": "Ana Maria", "credit_limit": "20.00"},
        setup=_customer_and_group,
    ),
    "customers-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/customers/{customer}",
        {},
        "customer.delete",
        "customer",
        {"deleted": False},
        {"deleted": True},
        setup=_customer_and_group,
    ),
    "customers-loyalty-adjust": Case(
        "cashier",
        "POST",
        "/api/v1/customers/{customer}/loyalty/adjust",
        {"points": 25, "reason": "Welcome"},
        "customer.loyalty.adjust",
        "customer",
        {"loyalty_points": 0},
        lambda w, e: {
            "loyalty_points": 25,
            "points": 25,
            "entry_id": e.after["entry_id"],
            "reference": None,
        },
        setup=_customer_and_group,
    ),
    "customers-balance-adjust": Case(
        "manager",
        "POST",
        "/api/v1/customers/{customer}/balance/adjust",
        {"amount": "-15.00", "reason": "Opening credit"},
        "customer.balance.adjustment",
        "customer",
        {"balance": "0.00"},
        lambda w, e: {
            "balance": "-15.00",
            "amount": "-15.00",
            "entry_id": e.after["entry_id"],
            "reference": None,
        },
        setup=_customer_and_group,
    ),
    "customer-groups-create": Case(
        "manager",
        "POST",
        "/api/v1/customers/groups",
        {"name": "Staff", "discountPercent": "25"},
        "customer_group.create",
        "new",
        None,
        {"name": "Staff", "discount_percent": "25.00"},
    ),
    "customer-groups-update": Case(
        "manager",
        "PATCH",
        "/api/v1/customers/groups/{group}",
        {"discountPercent": "7.5"},
        "customer_group.update",
        "customer_group",
        {"discount_percent": "5.00"},
        {"discount_percent": "7.50"},
        setup=_customer_and_group,
    ),
    "customer-groups-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/customers/groups/{group}",
        {},
        "customer_group.delete",
        "customer_group",
        {"deleted": False},
        {"deleted": True},
        setup=_customer_and_group,
    ),
    "sales-checkout": Case(
        "cashier",
        "POST",
        "/api/v1/sales/checkout",
        lambda w: {
            "storeId": str(w.store.pk),
            "items": [_item(w, quantity="1")],
            "payments": [{"method": "CASH", "amount": "2.00"}],
        },
        "sale.checkout",
        "new",
        None,
        lambda w, e: {
            "number": "INV-S1-000001",
            "store_id": str(w.store.pk),
            "customer_id": None,
            "total": "1.50",
            "paid_total": "2.00",
            "due_amount": "0.00",
            "items": 1,
        },
        setup=_stocked_variant,
    ),
    "sales-void": Case(
        "manager",
        "POST",
        "/api/v1/sales/{sale}/void",
        {"reason": "Rung up twice"},
        "sale.void",
        "sale",
        {"status": "COMPLETED"},
        {"status": "VOIDED", "reason": "Rung up twice"},
        setup=_a_sale,
    ),
    "sales-return": Case(
        "manager",
        "POST",
        "/api/v1/sales/{sale}/return",
        lambda w: {
            "items": [{"itemId": sale_item_id(w), "quantity": "1"}],
            "refundMethod": "CASH",
            "reason": "Damaged",
        },
        "sale.return",
        "sale",
        {"status": "COMPLETED"},
        {
            "status": "PARTIALLY_RETURNED",
            "return": "RET-S1-000001",
            "refund_total": "1.00",
            "refund_method": "CASH",
            "items": 1,
        },
        setup=_a_sale,
    ),
    "payments-collect-due": Case(
        "cashier",
        "POST",
        "/api/v1/payments/collect-due",
        lambda w: {
            "customerId": customer_id(w),
            "amount": "5.00",
            "method": "CARD",
            "storeId": str(w.store.pk),
        },
        "customer.balance.payment",
        "customer",
        {"balance": "12.00"},
        lambda w, e: {
            "balance": "7.00",
            "amount": "-5.00",
            "entry_id": e.after["entry_id"],
            "reference": e.after["reference"],
        },
        setup=lambda w: _customer_owing(w, "12.00"),
    ),
    "expense-categories-create": Case(
        "manager",
        "POST",
        "/api/v1/expenses/categories",
        {"name": "Utilities"},
        "expense_category.create",
        "new",
        None,
        {"name": "Utilities"},
    ),
    "expense-categories-delete": Case(
        "manager",
        "DELETE",
        "/api/v1/expenses/categories/{expense_category}",
        {},
        "expense_category.delete",
        "expense_category",
        {"deleted": False},
        {"deleted": True},
        setup=_expense,
    ),
    "expenses-create": Case(
        "manager",
        "POST",
        "/api/v1/expenses",
        lambda w: {
            "categoryId": expense_category_id(w, "Rent"),
            "amount": "120.50",
            "date": "2026-11-20",
            "description": "Electricity",
        },
        "expense.create",
        "new",
        None,
        lambda w, e: {
            "category_id": expense_category_id(w, "Rent"),
            "store_id": None,
            "amount": "120.50",
            "date": "2026-11-20",
            "description": "Electricity",
            "payment_method": "",
            "reference": "",
        },
        setup=_expense,
    ),
    "expenses-update": Case(
        "admin",
        "PATCH",
        "/api/v1/expenses/{expense}",
        {"amount": "810.00", "reference": "INV-77"},
        "expense.update",
        "expense",
        {"amount": "800.00", "reference": ""},
        {"amount": "810.00", "reference": "INV-77"},
        setup=_expense,
    ),
    "expenses-delete": Case(
        "admin",
        "DELETE",
        "/api/v1/expenses/{expense}",
        {},
        "expense.delete",
        "expense",
        {"deleted": False},
        {"deleted": True},
        setup=_expense,
    ),
    "suppliers-create": Case(
        "manager",
        "POST",
        "/api/v1/suppliers",
        {"name": "Acme Foods", "paymentTermsDays": 30},
        "supplier.create",
        "new",
        None,
        {
            "name": "Acme Foods",
            "contact_name": "",
            "email": "",
            "phone": "",
            "tax_id": "",
            "address": "",
            "payment_terms_days": 30,
            "notes": "",
        },
    ),
    "suppliers-update": Case(
        "manager",
        "PATCH",
        "/api/v1/suppliers/{supplier}",
        {"contactName": "Maria"},
        "supplier.update",
        "supplier",
        {"contact_name": ""},
        {"contact_name": "Maria"},
        setup=lambda w: _supplier_only(w),
    ),
    "suppliers-delete": Case(
        "admin",
        "DELETE",
        "/api/v1/suppliers/{supplier}",
        {},
        "supplier.delete",
        "supplier",
        {"deleted": False},
        {"deleted": True},
        setup=lambda w: _supplier_only(w),
    ),
    "purchases-create": Case(
        "manager",
        "POST",
        "/api/v1/purchases",
        lambda w: {
            "supplierId": supplier_id(w),
            "storeId": str(w.warehouse.pk),
            "items": [_item(w, quantity="3", unitCost="1.3333")],
        },
        "purchase.create",
        "new",
        None,
        lambda w, e: {
            "number": "PO-000001",
            "supplier_id": supplier_id(w),
            "store_id": str(w.warehouse.pk),
            "total": "4.00",
            "items": 1,
        },
        setup=lambda w: _supplier_only(w),
    ),
    "purchases-receive": Case(
        "manager",
        "POST",
        "/api/v1/purchases/{purchase}/receive",
        lambda w: {"items": [{"itemId": purchase_item_id(w), "quantity": "3"}]},
        "purchase.receive",
        "purchase",
        None,
        lambda w, e: {
            "status": "PARTIALLY_RECEIVED",
            "receipt_id": e.after["receipt_id"],
            "value": "7.50",
            "items": 1,
        },
        setup=_purchase,
    ),
    "purchases-payment": Case(
        "manager",
        "POST",
        "/api/v1/purchases/{purchase}/payment",
        {"amount": "4.00", "method": "BANK_TRANSFER"},
        "purchase.payment",
        "purchase",
        None,
        {"amount": "4.00", "method": "BANK_TRANSFER", "paid_total": "4.00"},
        setup=_purchase,
    ),
    "purchases-cancel": Case(
        "manager",
        "POST",
        "/api/v1/purchases/{purchase}/cancel",
        {},
        "purchase.cancel",
        "purchase",
        {"status": "ORDERED"},
        {"status": "CANCELLED", "closed_short": False},
        setup=_purchase,
    ),
    # the till (MIPOS additions)
    "pos-shift-open": Case(
        "cashier",
        "POST",
        "/api/v1/pos/shifts",
        lambda w: {"storeId": str(w.store.pk), "openingFloat": "100.00"},
        "shift.open",
        "new",
        None,
        lambda w, e: {"store_id": str(w.store.pk), "drawer": "MAIN", "opening_float": "100.00"},
    ),
    "pos-shift-cash": Case(
        "cashier",
        "POST",
        "/api/v1/pos/shifts/{shift}/cash",
        {"type": "PAY_OUT", "amount": "5.50", "reason": "Window cleaner"},
        "shift.cash",
        "shift",
        None,
        {"type": "PAY_OUT", "amount": "5.50", "reason": "Window cleaner"},
        setup=_open_shift,
    ),
    "pos-shift-close": Case(
        "cashier",
        "POST",
        "/api/v1/pos/shifts/{shift}/close",
        {"countedCash": "99.00"},
        "shift.close",
        "shift",
        None,
        {
            "z_report": "Z-S1-000001",
            "counted_cash": "99.00",
            "expected_cash": "100.00",
            "variance": "-1.00",
            "forced": False,
            "blind": False,
        },
        setup=_open_shift,
    ),
    "pos-cart-park": Case(
        "cashier",
        "POST",
        "/api/v1/pos/carts",
        lambda w: {
            "storeId": str(w.store.pk),
            "label": "Table 4",
            "cart": {"items": [_item(w, quantity="2")]},
        },
        "cart.park",
        "new",
        None,
        lambda w, e: {"store_id": str(w.store.pk), "label": "Table 4", "items": 1},
    ),
    "pos-cart-resume": Case(
        "cashier",
        "POST",
        "/api/v1/pos/carts/{cart}/resume",
        {},
        "cart.resume",
        "parked_cart",
        lambda w, e: {"store_id": str(w.store.pk), "label": "Table 4"},
        None,
        setup=_parked_cart,
    ),
    "pos-cart-delete": Case(
        "cashier",
        "DELETE",
        "/api/v1/pos/carts/{cart}",
        {},
        "cart.delete",
        "parked_cart",
        lambda w, e: {"store_id": str(w.store.pk), "label": "Table 4"},
        None,
        setup=_parked_cart,
    ),
}

# contract rows (method, path) → case; rows that only read are not here
CONTRACT_CASES = {
    ("POST", "/api/auth/login"): "login",
    ("POST", "/api/auth/refresh"): "refresh",
    ("POST", "/api/auth/logout"): "logout",
    ("POST", "/api/auth/logout-all"): "logout-all",
    ("PATCH", "/api/auth/change-password"): "change-password",
    ("PATCH", "/api/v1/users/me"): "users-me",
    ("POST", "/api/v1/users"): "users-create",
    ("PATCH", "/api/v1/users/:id"): "users-update",
    ("POST", "/api/v1/users/:id/reset-password"): "users-reset",
    ("DELETE", "/api/v1/users/:id"): "users-deactivate",
    ("PATCH", "/api/v1/users/:id/restore"): "users-restore",
    ("POST", "/api/v1/stores"): "stores-create",
    ("PATCH", "/api/v1/stores/:id"): "stores-update",
    ("DELETE", "/api/v1/stores/:id"): "stores-delete",
    ("PATCH", "/api/v1/tenants/me"): "tenant-update",
    ("PATCH", "/api/v1/tenants/me/settings"): "tenant-settings",
    ("POST", "/api/v1/super-admin/admins"): "sa-admins-create",
    ("DELETE", "/api/v1/super-admin/users/:userId"): "sa-users-delete",
    ("PATCH", "/api/v1/super-admin/users/:userId/restore"): "sa-users-restore",
    ("DELETE", "/api/v1/super-admin/users/:userId/hard"): "sa-users-hard",
    ("POST", "/api/v1/super-admin/users/bulk"): "sa-users-bulk",
    ("POST", "/api/v1/super-admin/users/:userId/reset-password"): "sa-users-reset",
    ("POST", "/api/v1/products"): "products-create",
    ("PATCH", "/api/v1/products/:id"): "products-update",
    ("DELETE", "/api/v1/products/:id"): "products-delete",
    ("POST", "/api/v1/products/:id/variants"): "variants-create",
    ("PATCH", "/api/v1/products/:id/variants/:variantId"): "variants-update",
    ("DELETE", "/api/v1/products/:id/variants/:variantId"): "variants-delete",
    ("POST", "/api/v1/products/categories"): "categories-create",
    ("PATCH", "/api/v1/products/categories/:id"): "categories-update",
    ("DELETE", "/api/v1/products/categories/:id"): "categories-delete",
    ("POST", "/api/v1/products/bulk-import"): "bulk-import",
    ("POST", "/api/v1/inventory/stock/adjust"): "stock-adjust",
    ("POST", "/api/v1/inventory/stock/set"): "stock-set",
    ("PATCH", "/api/v1/inventory/stock/:storeId/:productId/threshold"): "stock-threshold",
    ("POST", "/api/v1/inventory/transfers"): "transfers-create",
    ("POST", "/api/v1/inventory/transfers/:id/ship"): "transfers-ship",
    ("POST", "/api/v1/inventory/transfers/:id/receive"): "transfers-receive",
    ("POST", "/api/v1/inventory/transfers/:id/cancel"): "transfers-cancel",
    ("POST", "/api/v1/customers"): "customers-create",
    ("PATCH", "/api/v1/customers/:id"): "customers-update",
    ("DELETE", "/api/v1/customers/:id"): "customers-delete",
    ("POST", "/api/v1/customers/:id/loyalty/adjust"): "customers-loyalty-adjust",
    ("POST", "/api/v1/customers/groups"): "customer-groups-create",
    ("PATCH", "/api/v1/customers/groups/:id"): "customer-groups-update",
    ("DELETE", "/api/v1/customers/groups/:id"): "customer-groups-delete",
    ("POST", "/api/v1/sales/checkout"): "sales-checkout",
    ("POST", "/api/v1/sales/:id/void"): "sales-void",
    ("POST", "/api/v1/sales/:id/return"): "sales-return",
    ("POST", "/api/v1/payments/collect-due"): "payments-collect-due",
    ("POST", "/api/v1/expenses/categories"): "expense-categories-create",
    ("DELETE", "/api/v1/expenses/categories/:id"): "expense-categories-delete",
    ("POST", "/api/v1/expenses"): "expenses-create",
    ("PATCH", "/api/v1/expenses/:id"): "expenses-update",
    ("DELETE", "/api/v1/expenses/:id"): "expenses-delete",
    ("POST", "/api/v1/suppliers"): "suppliers-create",
    ("PATCH", "/api/v1/suppliers/:id"): "suppliers-update",
    ("DELETE", "/api/v1/suppliers/:id"): "suppliers-delete",
    ("POST", "/api/v1/purchases"): "purchases-create",
    ("POST", "/api/v1/purchases/:id/receive"): "purchases-receive",
    ("POST", "/api/v1/purchases/:id/payment"): "purchases-payment",
    ("POST", "/api/v1/purchases/:id/cancel"): "purchases-cancel",
    ("PUT", "/api/v1/receipts/template"): "receipt-template",
}


def value_id(world, value: str) -> str:
    from apps.catalog.models import VariantTypeValue

    with tenant_context(world.tenant):
        return str(VariantTypeValue.objects.get(variant_type__name="Size", value=value).pk)


def subcategory_id(world) -> str:
    from apps.catalog.models import Category

    with tenant_context(world.tenant):
        return str(Category.objects.get(name="Soft drinks").pk)


def test_every_write_row_of_the_contract_has_a_case():
    writes = {(r["method"], r["path"]) for r in BUILT if r["method"] != "GET"}
    assert writes == set(CONTRACT_CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_write_leaves_exactly_one_audit_row(name, client, world_a, super_admin):
    case = CASES[name]
    if case.setup:
        case.setup(world_a)
    callers = {
        "admin": world_a.admin,
        "manager": world_a.manager,
        "cashier": world_a.cashier,
        "super": super_admin,
        "anonymous": None,
    }
    caller = callers[case.caller]
    headers = {"HTTP_AUTHORIZATION": bearer(caller)} if caller else {}
    body = case.body(world_a) if callable(case.body) else case.body
    cart = cart_id(world_a) if "{cart}" in case.path else ""
    path = case.path.format(
        cashier=world_a.cashier.pk,
        store=world_a.store.pk,
        tenant=world_a.tenant.pk,
        product=world_a.product.pk,
        variant=world_a.variant.pk,
        category=world_a.category.pk,
        subcategory=subcategory_id(world_a) if "{subcategory}" in case.path else "",
        transfer=transfer_id(world_a) if "{transfer}" in case.path else "",
        customer=customer_id(world_a) if "{customer}" in case.path else "",
        group=customer_group_id(world_a) if "{group}" in case.path else "",
        sale=sale_id(world_a) if "{sale}" in case.path else "",
        shift=shift_id(world_a) if "{shift}" in case.path else "",
        cart=cart,
        expense=expense_id(world_a) if "{expense}" in case.path else "",
        expense_category=expense_category_id(world_a) if "{expense_category}" in case.path else "",
        supplier=supplier_id(world_a) if "{supplier}" in case.path else "",
        purchase=purchase_id(world_a) if "{purchase}" in case.path else "",
    )
    last_before = AuditLog.objects.order_by("-created_at").values_list("pk", flat=True).first()
    count_before = AuditLog.objects.count()

    response = client.generic(
        case.method,
        path,
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )

    assert 200 <= response.status_code < 300, response.content[:300]
    assert AuditLog.objects.count() == count_before + 1
    entry = AuditLog.objects.order_by("-created_at").first()
    assert entry.pk != last_before
    assert entry.action == case.action
    expected_actor = {"anonymous": world_a.cashier}.get(case.caller, caller)
    assert entry.actor_id == expected_actor.pk
    entity_ids = {
        "cashier": str(world_a.cashier.pk),
        "store": str(world_a.store.pk),
        "tenant": str(world_a.tenant.pk),
        "caller": str(caller.pk) if caller else None,
        "product": str(world_a.product.pk),
        "variant": str(world_a.variant.pk),
        "category": str(world_a.category.pk),
        "subcategory": subcategory_id(world_a),
        "transfer": transfer_id(world_a) if "{transfer}" in case.path else None,
        "customer": customer_id(world_a) if case.entity == "customer" else None,
        "customer_group": customer_group_id(world_a) if "{group}" in case.path else None,
        "sale": sale_id(world_a) if "{sale}" in case.path else None,
        "shift": shift_id(world_a) if "{shift}" in case.path else None,
        "parked_cart": cart or None,  # read before the call: resuming deletes it
        "expense": expense_id(world_a) if "{expense}" in case.path else None,
        "expense_category": expense_category_id(world_a)
        if "{expense_category}" in case.path
        else None,
        "supplier": supplier_id(world_a) if "{supplier}" in case.path else None,
        "purchase": purchase_id(world_a) if "{purchase}" in case.path else None,
        "none": "",
    }
    if case.entity == "new":
        data = response.json()["data"]
        new_id = (data.get("tenant") or data)["id"]
        assert entry.entity_id == new_id
    elif case.entity == "new-variant":
        variants = response.json()["data"]["variants"]
        assert entry.entity_id == next(v["id"] for v in variants if v["sku"] == "P-100-L")
    else:
        assert entry.entity_id == entity_ids[case.entity]
    expected_before = case.before(world_a, entry) if callable(case.before) else case.before
    assert entry.before == expected_before
    if case.after is not ANY:
        expected_after = case.after(world_a, entry) if callable(case.after) else case.after
        assert entry.after == expected_after
