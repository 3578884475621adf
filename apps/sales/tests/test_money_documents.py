"""Documents keep the currency and pricing mode they were made in, and a quote prices a cart
that is still being built (issue 25, points 1 to 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.customers.models import Customer
from apps.sales.models import Payment, Sale, SaleReturn
from apps.sales.tests.conftest import sales_state
from apps.tenants.models import TenantSettings
from tests.factories.sales import CHECKOUT, cash, line
from tests.factories.sales import cart as body
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
QUOTE = "/api/v1/sales/quote"
SETTINGS = "/api/v1/tenants/me/settings"


def sale_of(client, world, *items, payments, **extra) -> dict:
    response = client.post(CHECKOUT, body(world, *items, payments=payments, **extra), format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def figures(data: dict) -> tuple:
    return tuple(
        data[k] for k in ("subtotal", "discountTotal", "taxTotal", "roundingAdjustment", "total")
    )


# --- point 1: the identity on the wire ------------------------------------------------------------
@pytest.mark.parametrize(
    ("inclusive", "expected"),
    [
        # 2 x 11.47, 23 % tax, 4.29 off: the receipt printed Subtotal 19.45
        (True, ("22.94", "4.29", "3.49", "0.00", "18.65")),
        (False, ("22.94", "4.29", "4.29", "0.00", "22.94")),
    ],
)
def test_a_discounted_sale_adds_up_in_both_pricing_modes(api, world_a, shelf, inclusive, expected):
    company(world_a, tax_rate=D("23"), prices_include_tax=inclusive)
    with tenant_context(world_a.tenant):
        shelf.water.__class__.objects.filter(pk=shelf.water.pk).update(sell_price=D("11.47"))
    connection.set_schema_to_public()
    data = sale_of(
        api(world_a.admin), world_a, line(shelf.water, "2"),
        discount={"type": "AMOUNT", "value": "4.29"}, payments=[cash("30.00")],
    )  # fmt: skip
    assert figures(data) == expected
    assert data["pricesIncludeTax"] is inclusive
    subtotal, discounts, tax, rounding, total = (D(v) for v in expected)
    added = D("0") if inclusive else tax
    assert subtotal - discounts + added + rounding == total
    with tenant_context(world_a.tenant):
        stored = Sale.objects.get(pk=data["id"])
        assert (stored.subtotal, stored.total, stored.prices_include_tax) == (
            subtotal, total, inclusive,
        )  # fmt: skip
        # the lines carry the sale's mode (the reports read it there, without a join), and
        # sales 0008's SQL gives it to lines stored before they did
        assert [i.prices_include_tax for i in stored.items.all()] == [inclusive]
        import importlib

        from django.db import connection as db

        stored.items.update(prices_include_tax=False)
        migration = importlib.import_module(
            "apps.sales.migrations.0008_saleitem_prices_include_tax"
        )
        (run_sql,) = [op for op in migration.Migration.operations if hasattr(op, "sql")]
        with db.cursor() as cursor:
            cursor.execute(run_sql.sql)
        assert [i.prices_include_tax for i in stored.items.all()] == [inclusive]
        # sales 0009's SQL derives the untaxed gross and discounts the checkout stored
        # (2 x 11.47 = 22.94 with 23 % in it: 18.65 + 4.29 less tax 4.29 held in the gross)
        expected = (D("18.65"), D("3.49")) if inclusive else (D("22.94"), D("4.29"))
        assert (stored.untaxed_gross, stored.untaxed_discounts) == expected
        Sale.objects.filter(pk=stored.pk).update(untaxed_gross=0, untaxed_discounts=0)
        migration = importlib.import_module(
            "apps.sales.migrations.0009_sale_untaxed_gross_discounts"
        )
        (run_sql,) = [op for op in migration.Migration.operations if hasattr(op, "sql")]
        with db.cursor() as cursor:
            cursor.execute(run_sql.sql)
        again = Sale.objects.get(pk=stored.pk)
        assert (again.untaxed_gross, again.untaxed_discounts) == expected


# --- point 2: currency kept -----------------------------------------------------------------------
def test_a_sale_keeps_its_currency_when_the_company_s_changes(api, world_a, shelf):
    company(world_a, currency="USD")
    admin = api(world_a.admin)
    sale = sale_of(admin, world_a, line(shelf.water, "2"), payments=[cash("2.00")])
    assert sale["currency"] == "USD"
    item = sale["items"][0]["id"]
    returned = admin.post(
        f"/api/v1/sales/{sale['id']}/return",
        {"items": [{"itemId": item, "quantity": "1"}], "refundMethod": "CASH", "reason": "x"},
        format="json",
    )
    assert returned.status_code == 201, returned.content
    assert (returned.json()["data"]["currency"], returned.json()["data"]["pricesIncludeTax"]) == (
        "USD", False,
    )  # fmt: skip
    forced = admin.patch(SETTINGS, {"currency": "EUR", "forceCurrencyChange": True}, format="json")
    assert forced.status_code == 200, forced.content
    assert forced.json()["data"]["currency"] == "EUR"
    detail = admin.get(f"/api/v1/sales/{sale['id']}").json()["data"]
    assert detail["currency"] == "USD"
    assert detail["returns"][0]["currency"] == "USD"
    payments = admin.get(f"/api/v1/payments?saleId={sale['id']}").json()["data"]
    assert {p["currency"] for p in payments} == {"USD"}
    new = sale_of(admin, world_a, line(shelf.water), payments=[cash("0.80")])
    assert new["currency"] == "EUR"
    with tenant_context(world_a.tenant):
        assert set(Payment.objects.values_list("currency", flat=True)) == {"USD", "EUR"}
        assert SaleReturn.objects.get().currency == "USD"


def test_changing_the_currency_once_documents_exist_must_be_forced(api, world_a, shelf):
    company(world_a, currency="USD")
    admin = api(world_a.admin)
    # no documents yet: the currency is the company's to set
    free = admin.patch(SETTINGS, {"currency": "GBP"}, format="json")
    assert free.status_code == 200 and free.json()["data"]["currency"] == "GBP"
    sale_of(admin, world_a, line(shelf.water), payments=[cash("0.80")])
    audit_before = AuditLog.objects.filter(action="tenant.settings.update").count()
    refused = admin.patch(SETTINGS, {"currency": "EUR", "taxRate": "6"}, format="json")
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["code"] == "CURRENCY_LOCKED"
    assert refused.json()["error"]["details"][0]["field"] == "currency"
    row = TenantSettings.objects.get(tenant=world_a.tenant)
    assert (row.currency, row.tax_rate) == ("GBP", D("0.00"))
    assert AuditLog.objects.filter(action="tenant.settings.update").count() == audit_before
    # the same currency again is no change: allowed
    same = admin.patch(SETTINGS, {"currency": "GBP", "taxRate": "6"}, format="json")
    assert same.status_code == 200 and same.json()["data"]["taxRate"] == "6.00"
    # a manager may not change settings at all
    manager = api(world_a.manager).patch(
        SETTINGS, {"currency": "EUR", "forceCurrencyChange": True}, format="json"
    )
    assert manager.status_code == 403
    assert TenantSettings.objects.get(tenant=world_a.tenant).currency == "GBP"


def test_settings_country_and_discount_limits_are_validated(api, world_a):
    admin = api(world_a.admin)
    before = TenantSettings.objects.filter(tenant=world_a.tenant).values().get()
    for sent, field in (
        ({"country": "XX"}, "country"),
        ({"country": "Portugal"}, "country"),
        ({"maxDiscountPercent": {"CASHIER": "10"}}, "maxDiscountPercent"),
        ({"maxDiscountPercent": {"CASHIER": "101", "MANAGER": "50", "ADMIN": "100"}},
         "maxDiscountPercent.CASHIER"),
        ({"maxDiscountPercent": {"CASHIER": "5", "MANAGER": "x", "ADMIN": "100"}},
         "maxDiscountPercent.MANAGER"),
    ):  # fmt: skip
        response = admin.patch(SETTINGS, sent, format="json")
        assert response.status_code == 400, (sent, response.content)
        assert response.json()["error"]["details"][0]["field"] == field
    assert TenantSettings.objects.filter(tenant=world_a.tenant).values().get() == before
    assert before["max_discount_percent"] == {"CASHIER": "10", "MANAGER": "50", "ADMIN": "100"}
    changed = admin.patch(
        SETTINGS,
        {"country": "pt", "maxDiscountPercent": {"CASHIER": "12.50", "MANAGER": "40",
                                                  "ADMIN": "100"}},
        format="json",
    )  # fmt: skip
    assert changed.status_code == 200, changed.content
    data = changed.json()["data"]
    assert data["country"] == "PT"
    assert data["maxDiscountPercent"] == {"CASHIER": "12.5", "MANAGER": "40", "ADMIN": "100"}


# --- point 3: a quote prices the cart -------------------------------------------------------------
def test_a_quote_without_payments_prices_the_cart_and_says_what_is_due(api, world_a, shelf):
    company(world_a, tax_rate=D("23"), prices_include_tax=True, cash_rounding="0.05")
    client = api(world_a.cashier)
    before = sales_state(world_a)
    quoted = client.post(
        QUOTE, body(world_a, line(shelf.water, "3"), line(shelf.wrap)), format="json"
    )
    assert quoted.status_code == 200, quoted.content
    data = quoted.json()["data"]
    # 3 x 0.80 + 1.00, tax included; no cash tendered, so no rounding
    assert figures(data) == ("3.40", "0.00", "0.64", "0.00", "3.40")
    assert (data["paidTotal"], data["dueAmount"], data["changeDue"]) == ("0.00", "3.40", "0.00")
    assert (data["number"], data["currency"], data["pricesIncludeTax"], data["payments"]) == (
        None, "USD", True, [],
    )  # fmt: skip
    assert sales_state(world_a) == before


def test_a_cart_quote_refuses_what_the_checkout_would(api, world_a, shelf):
    client = api(world_a.cashier)
    before = sales_state(world_a)
    too_many = client.post(QUOTE, body(world_a, line(shelf.water, "21")), format="json")
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    # payments sent are checked exactly as checkout checks them
    short = client.post(
        QUOTE, body(world_a, line(shelf.water, "2"), payments=[cash("1.00")]), format="json"
    )
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "PAYMENT_INSUFFICIENT"
    assert sales_state(world_a) == before


def test_a_cart_quote_for_a_customer_estimates_points_and_charges_nothing(api, world_a, shelf):
    company(world_a, loyalty_enabled=True, loyalty_points_per_unit=D("1"))
    with tenant_context(world_a.tenant):
        customer = Customer.objects.create(name="Ana", credit_limit=D("0.00"))
    connection.set_schema_to_public()
    before = sales_state(world_a)
    quoted = api(world_a.cashier).post(
        QUOTE, body(world_a, line(shelf.beans, "1"), customerId=str(customer.pk)), format="json"
    )
    assert quoted.status_code == 200, quoted.content
    data = quoted.json()["data"]
    # 24.00 due (no credit limit applies to a cart not yet paid), 24 points if paid in full
    assert (data["total"], data["dueAmount"], data["pointsEarned"]) == ("24.00", "24.00", 24)
    assert sales_state(world_a) == before


# --- the migration of existing rows ---------------------------------------------------------------
def test_the_migration_rewrites_inclusive_subtotals_and_dates_currencies(api, world_a, shelf):
    """Runs sales 0006's forward SQL on rows stored the old way: an inclusive sale's subtotal
    was total + discounts - tax (19.45 for the issue's 2 x 11.47, 4.29 off, 3.49 tax)."""
    import importlib

    from django.db import connection as db

    migration = importlib.import_module(
        "apps.sales.migrations.0006_document_currency_inclusive_subtotal"
    )
    company(world_a, currency="CHF", tax_rate=D("23"), prices_include_tax=True)
    with tenant_context(world_a.tenant):
        shelf.water.__class__.objects.filter(pk=shelf.water.pk).update(sell_price=D("11.47"))
    connection.set_schema_to_public()
    data = sale_of(
        api(world_a.admin), world_a, line(shelf.water, "2"),
        discount={"type": "AMOUNT", "value": "4.29"}, payments=[cash("18.65")],
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        Sale.objects.filter(pk=data["id"]).update(subtotal=D("19.45"), currency="")
        Payment.objects.filter(sale_id=data["id"]).update(currency="")
        exclusive = Sale.objects.create(
            number="OLD-1", sequence=99, store_id=world_a.store.pk, cashier_id=world_a.admin.pk,
            subtotal=D("10.00"), discount_total=D("1.00"), tax_total=D("2.07"),
            rounding_adjustment=D("0.00"), total=D("11.07"), paid_total=D("11.07"),
            change_due=D("0.00"), due_amount=D("0.00"), prices_include_tax=False, currency="",
        )  # fmt: skip
        (run_sql,) = [op for op in migration.Migration.operations if hasattr(op, "sql")]
        with db.cursor() as cursor:
            for statement in run_sql.sql:
                cursor.execute(statement)
        migrated = Sale.objects.get(pk=data["id"])
        assert (migrated.subtotal, migrated.currency) == (D("22.94"), "CHF")
        assert migrated.subtotal - migrated.discount_total == migrated.total
        assert set(
            Payment.objects.filter(sale_id=data["id"]).values_list("currency", flat=True)
        ) == {"CHF"}
        untouched = Sale.objects.get(pk=exclusive.pk)
        assert (untouched.subtotal, untouched.currency) == (D("10.00"), "CHF")


def test_a_return_stores_its_tax_and_the_migration_derives_the_same(api, world_a, shelf):
    """Three returns of one line of 3 x 24.00 at 23 % (tax 13.46 in 72.00, prices with tax):
    the stored taxes are the line's tax prorated like the refunds (4.49, 4.48, 4.49: the shares
    of 1/3, 2/3 and all of it), adding up to it exactly; sales 0007's SQL derives exactly those
    for rows stored before the column existed."""
    import importlib

    from django.db import connection as db

    from apps.sales.models import SaleReturnItem

    company(world_a, tax_rate=D("23"), prices_include_tax=True)
    admin = api(world_a.admin)
    sale = sale_of(admin, world_a, line(shelf.beans, "3"), payments=[cash("72.00")])
    item = sale["items"][0]
    assert (item["taxAmount"], item["lineTotal"]) == ("13.46", "72.00")
    for expected in ("4.49", "4.48", "4.49"):
        back = admin.post(
            f"/api/v1/sales/{sale['id']}/return",
            {"items": [{"itemId": item["id"], "quantity": "1"}], "refundMethod": "CASH",
             "reason": "Dented"},
            format="json",
        )  # fmt: skip
        assert back.status_code == 201, back.content
        assert back.json()["data"]["items"][0]["taxAmount"] == expected
    migration = importlib.import_module("apps.sales.migrations.0007_salereturnitem_tax_amount")
    with tenant_context(world_a.tenant):
        stored = list(SaleReturnItem.objects.order_by("sale_return__sequence").values_list(
            "tax_amount", flat=True))  # fmt: skip
        assert stored == [D("4.49"), D("4.48"), D("4.49")]
        SaleReturnItem.objects.update(tax_amount=D("0.00"))
        (run_sql,) = [op for op in migration.Migration.operations if hasattr(op, "sql")]
        with db.cursor() as cursor:
            cursor.execute(run_sql.sql)
        assert list(SaleReturnItem.objects.order_by("sale_return__sequence").values_list(
            "tax_amount", flat=True)) == stored  # fmt: skip
