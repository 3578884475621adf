"""Every operation of the API, and how the generated suites call it.

The list of operations is read from the OpenAPI document (itself generated from the URLconf), so a
new endpoint appears here by itself. For each one the tables below say:
- who may call it: the contract's permission column (`docs/spec/endpoints.csv`), or `ADDITIONS`
  for the MIPOS operations the contract does not list;
- which real object of a tenant fills each path parameter (`RESOURCES`); a parameter with an enum
  in the document (lookup entity, status slug) gives one case per value;
- a valid sample input and the exact status each allowed role gets for it (`SAMPLES`): a 2xx, or
  a documented 4xx written out with its error code.
`tests/test_permissions.py` fails when an operation lacks any of these, and the permission,
isolation and schemathesis suites are generated from the cases built here."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.core.roles import PUBLIC, role_has_permission
from apps.users.tokens import token_pair_issue
from conftest import PASSWORD, bearer
from tests.endpoints import ROWS
from tests.factories.media import PNG
from tests.factories.refs import ref_ids

ROLES = ["SUPER_ADMIN", "ADMIN", "MANAGER", "CASHIER"]
TEMPLATE_VARIABLE = re.compile(r"\{(\w+)\}")
CSV_PARAM = re.compile(r":(\w+)")
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}

# --- who may call the operations the contract does not list ------------------------------------
# (method, path as documented) -> permission, or {enum value of the path parameter: permission}
ADDITIONS: dict[tuple[str, str], str | dict[str, str]] = {
    ("GET", "/api/v1/products/brands"): "product:read",
    ("POST", "/api/v1/products/brands"): "product:write",
    ("GET", "/api/v1/products/brands/{id}"): "product:read",
    ("PATCH", "/api/v1/products/brands/{id}"): "product:write",
    ("DELETE", "/api/v1/products/brands/{id}"): "product:write",
    ("GET", "/api/v1/products/units"): "product:read",
    ("POST", "/api/v1/products/units"): "product:write",
    ("GET", "/api/v1/products/units/{id}"): "product:read",
    ("PATCH", "/api/v1/products/units/{id}"): "product:write",
    ("DELETE", "/api/v1/products/units/{id}"): "product:write",
    ("GET", "/api/v1/products/variant-types"): "product:read",
    ("POST", "/api/v1/products/variant-types"): "product:write",
    ("GET", "/api/v1/products/variant-types/{id}"): "product:read",
    ("PATCH", "/api/v1/products/variant-types/{id}"): "product:write",
    ("DELETE", "/api/v1/products/variant-types/{id}"): "product:write",
    ("GET", "/api/v1/products/status/{statusSlug}"): "product:read",
    ("GET", "/api/v1/products/status/{statusSlug}/count"): "product:read",
    ("GET", "/api/v1/products/status/{statusSlug}/{id}"): "product:read",
    ("POST", "/api/v1/products/{id}/images"): "product:write",
    ("GET", "/api/v1/images/{imageId}"): PUBLIC,
    # account recovery (MIPOS "Auth")
    ("POST", "/api/auth/forgot-password"): PUBLIC,
    ("POST", "/api/auth/reset-password"): PUBLIC,
    ("GET", "/api/v1/lookups/{entity}"): {
        "products": "product:read",
        "categories": "category:read",
        "brands": "product:read",
        "units": "product:read",
        "variant-types": "product:read",
        "stores": "ADMIN/MANAGER/CASHIER",
        "users": "ADMIN/MANAGER",
        "customers": "customer:read",
        "suppliers": "supplier:read",
    },
    ("GET", "/api/v1/inventory/counts"): "inventory:read",
    ("POST", "/api/v1/inventory/counts"): "inventory:write",
    ("GET", "/api/v1/inventory/counts/{id}"): "inventory:read",
    ("POST", "/api/v1/inventory/counts/{id}/lines"): "inventory:write",
    ("POST", "/api/v1/inventory/counts/{id}/finalize"): "inventory:write",
    ("POST", "/api/v1/inventory/counts/{id}/cancel"): "inventory:write",
    ("POST", "/api/v1/customers/{id}/balance/adjust"): "ADMIN/MANAGER",
    ("POST", "/api/v1/sales/quote"): "sale:create",
    ("GET", "/api/v1/pos/context"): "sale:create",
    ("GET", "/api/v1/pos/products"): "sale:create",
    ("GET", "/api/v1/pos/customers"): "sale:create",
    ("GET", "/api/v1/pos/sales"): "sale:create",
    ("GET", "/api/v1/pos/carts"): "sale:create",
    ("POST", "/api/v1/pos/carts"): "sale:create",
    ("GET", "/api/v1/pos/carts/{id}"): "sale:create",
    ("DELETE", "/api/v1/pos/carts/{id}"): "sale:create",
    ("POST", "/api/v1/pos/carts/{id}/resume"): "sale:create",
    ("GET", "/api/v1/pos/shifts"): "sale:create",
    ("POST", "/api/v1/pos/shifts"): "sale:create",
    ("GET", "/api/v1/pos/shifts/{id}"): "sale:create",
    ("POST", "/api/v1/pos/shifts/{id}/cash"): "sale:create",
    ("GET", "/api/v1/pos/shifts/{id}/x-report"): "sale:create",
    ("POST", "/api/v1/pos/shifts/{id}/close"): "sale:create",
    ("GET", "/api/v1/receipts/sale/{saleId}/link"): "receipt:generate",
    ("POST", "/api/v1/receipts/sale/{saleId}/email"): "receipt:generate",
    ("GET", "/api/v1/analytics/market-basket"): "report:read",
    ("GET", "/api/v1/reports/sales-summary"): "report:read",
    ("GET", "/api/v1/reports/financial"): "report:read",
    ("GET", "/api/v1/reports/inventory"): "report:read",
    ("GET", "/api/v1/reports/sale-lines"): "report:read",
    ("GET", "/api/v1/reports/tax"): "report:read",  # by tax rate (issue 25)
    ("GET", "/api/v1/analytics/trends"): "report:read",
    ("GET", "/api/v1/analytics/top-products"): "report:read",
    ("GET", "/api/v1/analytics/reorder-suggestions"): "report:read",
    ("GET", "/api/v1/super-admin/tenants"): "SUPER_ADMIN",
    ("POST", "/api/v1/super-admin/tenants"): "SUPER_ADMIN",
    ("GET", "/api/v1/super-admin/tenants/{id}"): "SUPER_ADMIN",
    ("PATCH", "/api/v1/super-admin/tenants/{id}"): "SUPER_ADMIN",
    ("POST", "/api/v1/super-admin/tenants/{id}/suspend"): "SUPER_ADMIN",
    ("POST", "/api/v1/super-admin/tenants/{id}/restore"): "SUPER_ADMIN",
    ("GET", "/api/v1/super-admin/logs"): "SUPER_ADMIN",  # dev-tools log viewer
    # subscription packages (MIPOS "Packages")
    ("GET", "/api/v1/super-admin/packages"): "SUPER_ADMIN",
    ("POST", "/api/v1/super-admin/packages"): "SUPER_ADMIN",
    ("GET", "/api/v1/super-admin/packages/{id}"): "SUPER_ADMIN",
    ("PATCH", "/api/v1/super-admin/packages/{id}"): "SUPER_ADMIN",
    ("DELETE", "/api/v1/super-admin/packages/{id}"): "SUPER_ADMIN",
    ("GET", "/api/v1/tenants/me/subscription"): "ADMIN/MANAGER",
    ("PUT", "/api/v1/users/me/pin"): "ADMIN/MANAGER/CASHIER",  # the approval PIN (issue 25)
}

# --- which object of a tenant fills a path parameter ---------------------------------------------
# The path up to and including the parameter -> a key of `Refs.ids` ({param} is replaced with the
# case's enum value of that parameter).
RESOURCES: dict[str, str] = {
    "/api/v1/products/{id}": "product",
    "/api/v1/products/{productId}": "product",
    "/api/v1/products/{productId}/variants/{variantId}": "variant",
    "/api/v1/products/brands/{id}": "brand",
    "/api/v1/products/units/{id}": "unit",
    "/api/v1/products/variant-types/{id}": "variant_type",
    "/api/v1/products/categories/{id}": "category",
    "/api/v1/products/lookup/barcode/{barcode}": "barcode",
    "/api/v1/products/status/{statusSlug}/{id}": "product:{statusSlug}",
    "/api/v1/images/{imageId}": "image",
    "/api/v1/stores/{id}": "store",
    "/api/v1/users/{id}": "cashier",
    "/api/v1/super-admin/users/{userId}": "cashier",
    "/api/v1/super-admin/tenants/{id}": "tenant",
    "/api/v1/super-admin/packages/{id}": "package",  # a plan no company is on
    "/api/v1/inventory/stock/{storeId}": "store",
    "/api/v1/inventory/stock/{storeId}/{productId}": "stock_product",
    "/api/v1/inventory/transfers/{id}": "transfer",
    "/api/v1/inventory/counts/{id}": "count",
    "/api/v1/customers/{id}": "customer",
    "/api/v1/customers/groups/{id}": "customer_group",
    "/api/v1/sales/{id}": "sale",
    "/api/v1/receipts/sale/{saleId}": "sale",
    "/api/v1/payments/{id}": "payment",
    "/api/v1/payments/customer/{customerId}": "customer",
    "/api/v1/pos/carts/{id}": "parked_cart",
    "/api/v1/expenses/categories/{id}": "expense_category_unused",
    "/api/v1/expenses/{id}": "expense",
    "/api/v1/suppliers/{id}": "supplier",
    "/api/v1/purchases/{id}": "purchase",
    "/api/v1/pos/shifts/{id}": "shift",  # the cashier's open shift
}
# Parameters that name no tenant object (the isolation suite calls these operations like others).
NOT_TENANT_OBJECTS = {"entity", "statusSlug"}
# Operations whose objects are public by design: anyone with the URL may read them.
PUBLIC_OBJECTS = {("GET", "/api/v1/images/{imageId}")}


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None  # the error code of a documented 4xx


@dataclass(frozen=True)
class Sample:
    """A valid input for the operation and what an allowed caller gets for it."""

    body: Callable[[Refs], Any] | None = None  # JSON body, built from the tenant's refs
    upload: bool = False  # a multipart PNG upload as `file`
    query: dict[str, str] | Callable[[Refs], dict[str, str]] = field(default_factory=dict)
    status: int = 200
    by_role: dict[str, Expect] = field(default_factory=dict)  # where a role gets another answer

    def expected(self, role: str) -> Expect:
        return self.by_role.get(role, Expect(self.status))


SAMPLES: dict[tuple[str, str], Sample] = {
    # auth: every signed-in role, on its own account
    ("POST", "/api/auth/login"): Sample(lambda r: {"email": r.user.email, "password": PASSWORD}),
    ("POST", "/api/auth/refresh"): Sample(lambda r: {"refreshToken": r.refresh_token()}),
    ("POST", "/api/auth/logout"): Sample(lambda r: {"refreshToken": r.refresh_token()}),
    ("POST", "/api/auth/logout-all"): Sample(),
    ("PATCH", "/api/auth/change-password"): Sample(
        lambda r: {"currentPassword": PASSWORD, "newPassword": "Another-horse-43"}
    ),
    ("POST", "/api/auth/forgot-password"): Sample(lambda r: {"email": r.user.email}),
    ("POST", "/api/auth/reset-password"): Sample(
        lambda r: {"token": r.reset_token(), "newPassword": "Recovered-horse-45"}
    ),
    ("PATCH", "/api/v1/users/me"): Sample(lambda r: {"name": "Renamed Self"}),
    ("PUT", "/api/v1/users/me/pin"): Sample(lambda r: {"pin": "2580", "currentPassword": PASSWORD}),
    # staff (the target is the tenant's cashier)
    ("POST", "/api/v1/users"): Sample(
        lambda r: {
            "email": "new.cashier@sample.test",
            "password": PASSWORD,
            "name": "New Cashier",
            "role": "CASHIER",
            "storeIds": [r.ids["store"]],
        },
        status=201,
    ),
    ("PATCH", "/api/v1/users/{id}"): Sample(lambda r: {"name": "Renamed Cashier"}),
    ("POST", "/api/v1/users/{id}/reset-password"): Sample(
        lambda r: {"newPassword": "Reset-horse-44"}
    ),
    ("PATCH", "/api/v1/users/{id}/restore"): Sample(),  # an active user: no change, 200
    # stores
    ("POST", "/api/v1/stores"): Sample(
        lambda r: {"name": "Airport", "code": "AIR", "kind": "RETAIL"}, status=201
    ),
    ("PATCH", "/api/v1/stores/{id}"): Sample(lambda r: {"name": "Renamed store"}),
    # company
    ("PATCH", "/api/v1/tenants/me"): Sample(lambda r: {"phone": "+351 210 000 000"}),
    ("PATCH", "/api/v1/tenants/me/settings"): Sample(lambda r: {"currency": "USD"}),
    # catalogue
    ("POST", "/api/v1/products"): Sample(
        lambda r: {
            "name": "Sample tea",
            "sku": "SAMPLE-1",
            "categoryId": r.ids["category"],
            "sellPrice": "2.50",
        },
        status=201,
    ),
    ("PATCH", "/api/v1/products/{id}"): Sample(lambda r: {"name": "Cola 500ml"}),
    ("POST", "/api/v1/products/{id}/variants"): Sample(
        lambda r: {"sku": "P-100-L", "valueIds": [r.ids["size_l"]]}, status=201
    ),
    ("PATCH", "/api/v1/products/{productId}/variants/{variantId}"): Sample(
        lambda r: {"price": "1.60"}
    ),
    ("POST", "/api/v1/products/{id}/images"): Sample(upload=True, status=201),
    ("POST", "/api/v1/products/bulk-import"): Sample(
        lambda r: [{"sku": "IMP-1", "name": "Imported", "sellPrice": "1.00"}]
    ),
    ("POST", "/api/v1/products/categories"): Sample(lambda r: {"name": "Snacks"}, status=201),
    ("PATCH", "/api/v1/products/categories/{id}"): Sample(lambda r: {"name": "Renamed"}),
    ("POST", "/api/v1/products/brands"): Sample(lambda r: {"name": "Sample brand"}, status=201),
    ("PATCH", "/api/v1/products/brands/{id}"): Sample(lambda r: {"name": "Renamed"}),
    ("POST", "/api/v1/products/units"): Sample(
        lambda r: {"name": "Litre", "abbreviation": "l"}, status=201
    ),
    ("PATCH", "/api/v1/products/units/{id}"): Sample(lambda r: {"name": "Renamed"}),
    ("POST", "/api/v1/products/variant-types"): Sample(
        lambda r: {"name": "Colour", "values": ["Red", "Blue"]}, status=201
    ),
    ("PATCH", "/api/v1/products/variant-types/{id}"): Sample(lambda r: {"name": "Renamed"}),
    # inventory (a plain product holding 20 in the cashier's store; a PENDING transfer of it)
    ("POST", "/api/v1/inventory/stock/adjust"): Sample(
        lambda r: {
            "storeId": str(r.world.store.pk),
            "reason": "FOUND",
            "items": [{"productId": r.ids["stock_product"], "delta": "2"}],
        }
    ),
    ("POST", "/api/v1/inventory/stock/set"): Sample(
        lambda r: {
            "storeId": str(r.world.store.pk),
            "items": [{"productId": r.ids["stock_product"], "quantity": "7"}],
        }
    ),
    ("PATCH", "/api/v1/inventory/stock/{storeId}/{productId}/threshold"): Sample(
        lambda r: {"threshold": "3"}
    ),
    ("POST", "/api/v1/inventory/transfers"): Sample(
        lambda r: {
            "fromStoreId": str(r.world.store.pk),
            "toStoreId": str(r.world.warehouse.pk),
            "items": [{"productId": r.ids["stock_product"], "quantity": "1"}],
        },
        status=201,
    ),
    ("POST", "/api/v1/inventory/counts"): Sample(
        lambda r: {"storeId": str(r.world.warehouse.pk), "scope": "PARTIAL"}, status=201
    ),
    ("POST", "/api/v1/inventory/counts/{id}/lines"): Sample(
        lambda r: {"items": [{"productId": r.ids["stock_product"], "quantity": "18"}]}
    ),
    ("POST", "/api/v1/inventory/counts/{id}/finalize"): Sample(),
    ("POST", "/api/v1/inventory/counts/{id}/cancel"): Sample(),
    ("POST", "/api/v1/inventory/transfers/{id}/ship"): Sample(),
    ("POST", "/api/v1/inventory/transfers/{id}/cancel"): Sample(),
    ("POST", "/api/v1/inventory/transfers/{id}/receive"): Sample(
        by_role={  # the transfer is PENDING: not shipped yet
            "ADMIN": Expect(422, "INVALID_STATE"),
            "MANAGER": Expect(422, "INVALID_STATE"),
        }
    ),
    # customers (the target holds 120 points and owes nothing; the group has no members)
    ("POST", "/api/v1/customers"): Sample(
        lambda r: {"name": "Sample customer", "email": "sample@customer.test"}, status=201
    ),
    ("PATCH", "/api/v1/customers/{id}"): Sample(lambda r: {"phone": "+351 910 000 000"}),
    ("POST", "/api/v1/customers/{id}/loyalty/adjust"): Sample(
        lambda r: {"points": -20, "reason": "Correction"}
    ),
    ("POST", "/api/v1/customers/{id}/balance/adjust"): Sample(
        lambda r: {"amount": "15.00", "reason": "Opening balance"}
    ),
    # groups set discounts: customer:write, but cashiers are refused by the service
    ("POST", "/api/v1/customers/groups"): Sample(
        lambda r: {"name": "Sample group", "discountPercent": "7.5"},
        status=201,
        by_role={"CASHIER": Expect(403, "FORBIDDEN")},
    ),
    ("PATCH", "/api/v1/customers/groups/{id}"): Sample(
        lambda r: {"discountPercent": "8"}, by_role={"CASHIER": Expect(403, "FORBIDDEN")}
    ),
    ("DELETE", "/api/v1/customers/groups/{id}"): Sample(
        by_role={"CASHIER": Expect(403, "FORBIDDEN")}
    ),
    # sales (one unit of the stocked product, paid in cash, in the cashier's store; the target
    # sale is a completed cash sale of 2 of it)
    ("POST", "/api/v1/sales/checkout"): Sample(lambda r: _cart(r), status=201),
    ("POST", "/api/v1/sales/quote"): Sample(lambda r: _cart(r)),
    ("POST", "/api/v1/sales/{id}/void"): Sample(lambda r: {"reason": "Rung up twice"}),
    ("POST", "/api/v1/sales/{id}/return"): Sample(
        lambda r: {
            "items": [{"itemId": r.ids["sale_item"], "quantity": "1"}],
            "refundMethod": "CASH",
            "reason": "Damaged",
        },
        status=201,
    ),
    # a customer who owes 7.00 pays 2.00 of it in the cashier's store
    ("POST", "/api/v1/payments/collect-due"): Sample(
        lambda r: {
            "customerId": r.ids["customer_owing"],
            "amount": "2.00",
            "method": "CASH",
            "storeId": str(r.world.store.pk),
        },
        status=201,
    ),
    # suppliers and purchases (the target supplier has no orders; the target order is ORDERED:
    # 5 of the stocked product at 1.2500, nothing received or paid)
    ("POST", "/api/v1/suppliers"): Sample(
        lambda r: {
            "name": "Sample supplier",
            "email": "orders@sample.test",
            "paymentTermsDays": 30,
        },
        status=201,
    ),
    ("PATCH", "/api/v1/suppliers/{id}"): Sample(lambda r: {"contactName": "Maria"}),
    ("POST", "/api/v1/purchases"): Sample(
        lambda r: {
            "supplierId": r.ids["supplier"],
            "storeId": str(r.world.warehouse.pk),
            "items": [
                {"productId": r.ids["stock_product"], "quantity": "10", "unitCost": "1.1111"}
            ],
        },
        status=201,
    ),
    ("POST", "/api/v1/purchases/{id}/receive"): Sample(
        lambda r: {"items": [{"itemId": r.ids["purchase_item"], "quantity": "2"}]}
    ),
    ("POST", "/api/v1/purchases/{id}/payment"): Sample(
        lambda r: {"amount": "1.00", "method": "BANK_TRANSFER"}, status=201
    ),
    ("POST", "/api/v1/purchases/{id}/cancel"): Sample(),
    # expenses (ADMIN and MANAGER); the category targeted by a delete is unused
    ("POST", "/api/v1/expenses/categories"): Sample(lambda r: {"name": "Utilities"}, status=201),
    ("POST", "/api/v1/expenses"): Sample(
        lambda r: {
            "categoryId": r.ids["expense_category"],
            "storeId": str(r.world.store.pk),
            "amount": "120.50",
            "date": "2026-11-20",
            "description": "Electricity, October",
            "paymentMethod": "BANK_TRANSFER",
        },
        status=201,
    ),
    ("PATCH", "/api/v1/expenses/{id}"): Sample(lambda r: {"amount": "99.90"}),
    # the till (the cashier has an open shift on the MAIN drawer of their store; a parked cart)
    ("GET", "/api/v1/pos/products"): Sample(query=lambda r: {"storeId": str(r.world.store.pk)}),
    ("POST", "/api/v1/pos/carts"): Sample(
        lambda r: {"storeId": str(r.world.store.pk), "label": "Table 4", "cart": _cart(r)},
        status=201,
    ),
    ("POST", "/api/v1/pos/carts/{id}/resume"): Sample(),
    ("POST", "/api/v1/pos/shifts"): Sample(
        lambda r: {"storeId": str(r.world.store.pk), "openingFloat": "50.00", "drawer": "SIDE"},
        status=201,
        by_role={"CASHIER": Expect(409, "SHIFT_ALREADY_OPEN")},  # theirs is open
    ),
    ("POST", "/api/v1/pos/shifts/{id}/cash"): Sample(
        lambda r: {"type": "PAY_IN", "amount": "5.00", "reason": "Float top-up"}, status=201
    ),
    ("POST", "/api/v1/pos/shifts/{id}/close"): Sample(lambda r: {"countedCash": "100.00"}),
    # receipts (the target sale is the cashier's store's)
    ("PUT", "/api/v1/receipts/template"): Sample(
        lambda r: {"header": "Thank you", "paper": "58mm", "fields": {"qr": False}}
    ),
    ("POST", "/api/v1/receipts/sale/{saleId}/email"): Sample(
        lambda r: {"to": "customer@receipts.test"}
    ),
    # analytics: a period of a week
    ("GET", "/api/v1/analytics/trends"): Sample(query={"from": "2026-11-23", "to": "2026-11-29"}),
    # super admin (the targets are tenant A and its cashier)
    ("POST", "/api/v1/super-admin/admins"): Sample(
        lambda r: {"email": "second.root@platform.test", "password": PASSWORD, "name": "Root 2"},
        status=201,
    ),
    ("POST", "/api/v1/super-admin/tenants"): Sample(
        lambda r: {
            "name": "Corner Shop",
            "slug": "corner-shop",
            "ownerEmail": "owner@corner.test",
            "ownerPassword": PASSWORD,
            "ownerName": "Olive",
        },
        status=201,
    ),
    ("PATCH", "/api/v1/super-admin/tenants/{id}"): Sample(lambda r: {"legalName": "Acme Lda"}),
    ("POST", "/api/v1/super-admin/packages"): Sample(
        lambda r: {
            "name": "Sample plan",
            "price": "19.00",
            "maxStores": 2,
            "features": ["analytics", "exports"],
        },
        status=201,
    ),
    ("PATCH", "/api/v1/super-admin/packages/{id}"): Sample(lambda r: {"maxProducts": 500}),
    ("POST", "/api/v1/super-admin/tenants/{id}/suspend"): Sample(),
    ("POST", "/api/v1/super-admin/tenants/{id}/restore"): Sample(
        by_role={"SUPER_ADMIN": Expect(422, "TENANT_STATE")}  # the company is not suspended
    ),
    ("PATCH", "/api/v1/super-admin/users/{userId}/restore"): Sample(),  # not deleted: 200
    ("DELETE", "/api/v1/super-admin/users/{userId}/hard"): Sample(query={"anonymise": "true"}),
    ("POST", "/api/v1/super-admin/users/{userId}/reset-password"): Sample(
        lambda r: {"newPassword": "Reset-horse-44"}
    ),
    ("POST", "/api/v1/super-admin/users/bulk"): Sample(
        lambda r: {"action": "deactivate", "userIds": [r.ids["cashier"]]}
    ),
}


# --- operations and cases ------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[tuple[str, tuple[str, ...]], ...]  # (path parameter, its enum or ())

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


@dataclass(frozen=True)
class Case:
    operation: Operation
    permission: str
    choices: tuple[tuple[str, str], ...] = ()  # enum values chosen for path parameters
    source: str = "contract"  # or "additions"

    @property
    def id(self) -> str:
        path = self.operation.path
        for name, value in self.choices:
            path = path.replace("{" + name + "}", value)
        return f"{self.operation.method} {path}"

    @property
    def method(self) -> str:
        return self.operation.method

    @property
    def sample(self) -> Sample:
        return SAMPLES.get(self.operation.key, Sample())

    @property
    def has_tenant_ids(self) -> bool:
        return any(name not in NOT_TENANT_OBJECTS for name, _ in self.operation.parameters)

    def allowed(self, role: str) -> bool:
        return self.permission == PUBLIC or role_has_permission(role, self.permission)

    def path_for(self, refs: Refs) -> str:
        chosen = dict(self.choices)
        path = self.operation.path
        for match in TEMPLATE_VARIABLE.finditer(self.operation.path):
            name = match.group(1)
            if name in chosen:
                value = chosen[name]
            else:
                resource = RESOURCES[self.operation.path[: match.end()]].format(**chosen)
                value = refs.ids[resource]
            path = path.replace(match.group(0), str(value), 1)
        return path


@cache
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for path, item in schema()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            parameters = tuple(
                (p["name"], tuple(p["schema"].get("enum", ())))
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            )
            found.append(Operation(method.upper(), path, parameters))
    return tuple(found)


def normalized(path: str) -> str:
    return TEMPLATE_VARIABLE.sub("{}", CSV_PARAM.sub("{}", path.rstrip("/")))


CONTRACT = {(row["method"], normalized(row["path"])): row for row in ROWS}


def cases_of(operation: Operation) -> list[Case]:
    """One case per combination of enum values of its path parameters; permission looked up in
    the contract, then in ADDITIONS. KeyError when neither lists the operation."""
    row = CONTRACT.get((operation.method, normalized(operation.path)))
    permission = row["permission"] if row else ADDITIONS[operation.key]
    source = "contract" if row else "additions"
    choices: list[tuple[tuple[str, str], ...]] = [()]
    for name, enum in operation.parameters:
        if enum:
            choices = [(*chosen, (name, value)) for chosen in choices for value in enum]
    result = []
    for chosen in choices:
        needed = permission
        if isinstance(permission, dict):
            (value,) = [v for _, v in chosen if v in permission] or [None]
            needed = permission[value]  # KeyError: an enum value without a permission
        result.append(Case(operation, needed, chosen, source))
    return result


@cache
def all_cases() -> tuple[Case, ...]:
    """Every case of every operation that has a permission (the others fail
    `test_every_operation_has_a_permission` instead of breaking collection)."""
    found = []
    for operation in operations():
        try:
            found.extend(cases_of(operation))
        except KeyError:
            continue
    return tuple(found)


# --- the objects of a tenant that fill paths and bodies -----------------------------------------
@dataclass
class Refs:
    world: Any  # conftest.TenantWorld
    ids: dict[str, Any]
    caller: Any = None

    @property
    def user(self):
        """The caller, or (for an anonymous call) the tenant's admin."""
        return self.caller or self.world.admin

    def refresh_token(self) -> str:
        return token_pair_issue(user=self.user).refresh

    def reset_token(self) -> str:
        """A password-reset token of the user, as `forgot-password` would have e-mailed it."""
        from apps.users.services import password_reset_token_issue

        return password_reset_token_issue(user=self.user)


@contextmanager
def rows_kept_for_the_module(django_db_blocker, build: Callable[[], Any]):
    """`build()`'s rows kept for a whole test module, never committed — as Django's
    `TestCase.setUpTestData`: an outer transaction opened here, every test's own transaction
    nested in it as a savepoint (rolled back after the test, so each test starts from the same
    rows), the outer one rolled back when the module's fixture ends. Built once instead of once
    per generated case (over a thousand of them). Yields what `build()` returned."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            built = build()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            connection.set_schema_to_public()


def make_refs(world) -> Refs:
    """Objects of `world`'s tenant for every path parameter (tests.factories.refs)."""
    return Refs(world=world, ids=ref_ids(world))


def _cart(refs) -> dict:
    return {
        "storeId": str(refs.world.store.pk),
        "items": [{"productId": refs.ids["stock_product"], "quantity": "1"}],
        "payments": [{"method": "CASH", "amount": "5.00"}],
    }


def call(client, case: Case, refs: Refs, user=None, body_refs: Refs | None = None):
    """Sends the case's sample request (as `user`, or anonymously): path ids from `refs`, body
    from `body_refs` (default: the same)."""
    sample = case.sample
    headers = {"HTTP_AUTHORIZATION": bearer(user)} if user is not None else {}
    body_refs = body_refs or refs
    refs.caller = body_refs.caller = user
    path = case.path_for(refs)
    query = sample.query(body_refs) if callable(sample.query) else sample.query
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    if sample.upload:
        upload = io.BytesIO(PNG)
        upload.name = "sample.png"
        response = client.post(path, {"file": upload}, format="multipart", **headers)
    else:
        body = sample.body(body_refs) if sample.body else {}
        response = client.generic(
            case.method,
            path,
            data=json.dumps(body, default=str),
            content_type="application/json",
            **headers,
        )
    connection.set_schema_to_public()
    return response


# --- everything of a tenant, to prove a refused call changed nothing ------------------------------
def _tenant_querysets(tenant):
    """(label, queryset) of every row set `tenant_snapshot` covers; the tenant-schema ones are
    read inside `tenant_context(tenant)` (the caller's job), the public ones outside."""
    from apps.tenants.models import Tenant
    from apps.users.models import User

    tenant_only = set(settings.TENANT_APPS) - set(settings.SHARED_APPS)
    public: list[tuple[str, Any]] = []
    for model in apps.get_models():
        if model._meta.app_config.name in tenant_only:
            continue
        rows = model.objects.filter(pk=tenant.pk) if model is Tenant else None
        for f in model._meta.concrete_fields if rows is None else ():
            if f.is_relation and f.related_model is Tenant:
                rows = model.objects.filter(**{f.name: tenant})
            elif f.is_relation and f.related_model is User:
                rows = model.objects.filter(**{f"{f.name}__tenant": tenant})
            if rows is not None:
                break
        if rows is not None:
            public.append((model._meta.label, rows.order_by("pk")))
    own = [
        (model._meta.label, model.objects.order_by("pk"))
        for model in apps.get_models()
        if model._meta.app_config.name in tenant_only
    ]
    return public, own


def tenant_snapshot(tenant) -> dict[str, list[dict]]:
    """Every row of every tenant-schema model in `tenant`'s schema, and every public row that
    belongs to it: the tenant row, rows with a `tenant` foreign key (users, settings, domains,
    audit trail, images) and rows pointing at its users (refresh tokens)."""
    public, own = _tenant_querysets(tenant)
    connection.set_schema_to_public()
    snapshot = {label: list(rows.values()) for label, rows in public}
    with tenant_context(tenant):
        snapshot.update({label: list(rows.values()) for label, rows in own})
    connection.set_schema_to_public()
    return snapshot


def tenant_fingerprint(tenant) -> dict[str, str]:
    """What `tenant_snapshot` covers as one digest per row set, read by two queries (the public
    rows, the schema's rows): equal fingerprints, equal rows (every column's text, in key
    order). For checks run per generated case; the snapshot says what differs."""

    def digests(querysets) -> dict[str, str]:
        parts, params = [], []
        for label, rows in querysets:
            sql, args = rows.query.sql_with_params()
            parts.append(
                "SELECT %s, md5(coalesce(string_agg(r::text, '|' ORDER BY n), ''))"
                f" FROM (SELECT s, row_number() OVER () AS n FROM ({sql}) s) r"
            )
            params += [label, *args]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            return dict(cursor.fetchall())

    public, own = _tenant_querysets(tenant)
    connection.set_schema_to_public()
    fingerprint = digests(public)
    with tenant_context(tenant):
        fingerprint.update(digests(own))
    connection.set_schema_to_public()
    return fingerprint


def ids_in(snapshot: dict[str, list[dict]]) -> set[str]:
    """Every UUID primary key in a snapshot, as text."""
    return {
        str(value)
        for rows in snapshot.values()
        for row in rows
        for key, value in row.items()
        if key == "id" and isinstance(value, uuid.UUID)
    }
