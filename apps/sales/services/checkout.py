"""The checkout and its dry run, the quote: the cart read from the catalogue in one statement,
priced by `apps.sales.pricing`, written in one transaction (see the package's docstring for the
lock order)."""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction

from apps.audit.services import audit_entry
from apps.catalog.selectors import catalogue_item_identity_check, catalogue_items
from apps.catalog.validation import whole_units_check
from apps.core import metrics
from apps.core.db import (
    advisory_locks,
    document_number_next,
    insert_compiled,
    rows_insert,
)
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.roles import Role
from apps.customers import services as customers
from apps.customers.models import Customer
from apps.inventory.services import StockChange, StockKey, stock_move
from apps.sales import approval as approvals
from apps.sales import drawer, events, pricing
from apps.sales.models import (
    Payment,
    PaymentKind,
    PaymentMethod,
    Sale,
    SaleItem,
)
from apps.sales.services.common import MAX_ITEMS, MAX_PAYMENTS, ZERO, company_settings
from apps.stores.models import StoreKind
from apps.tenants.limits import PlanResource, current_tenant, plan_limit_guard, tenant_package
from apps.tenants.models import PlanFeature
from apps.tenants.usage import tenant_sale_record


# --- the checkout's input -------------------------------------------------------------------------
@dataclass(frozen=True)
class CartItem:
    product_id: UUID
    quantity: Decimal
    variant_id: UUID | None = None
    unit_price: Decimal | None = None  # an override: ADMIN/MANAGER only
    discount: pricing.Discount | None = None


@dataclass(frozen=True)
class Checkout:
    store_id: UUID
    items: Sequence[CartItem]
    payments: Sequence[pricing.Tender] = ()
    customer_id: UUID | None = None
    client_sale_id: UUID | None = None
    discount: pricing.Discount | None = None
    redeem_points: int = 0
    note: str = ""
    references: Sequence[str] = field(default_factory=tuple)  # per payment, "" when none
    approval: approvals.Approval | None = None  # a manager's, for discounts beyond the limit

    def fingerprint(self) -> str:
        """The same checkout sent again hashes the same (a till's retry)."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


# --- what the checkout reads ----------------------------------------------------------------------
@dataclass(frozen=True)
class SaleLine:
    """One priced line of the cart, with what the sale copies from the catalogue."""

    item: CartItem
    name: str
    sku: str
    unit_price: Decimal
    tax_rate: Decimal
    unit_cost: Decimal
    track_stock: bool


def _lines(checkout: Checkout, *, actor, settings) -> list[SaleLine]:
    if not checkout.items:
        raise ValidationFailed.for_field("items", "At least one item is required.")
    if len(checkout.items) > MAX_ITEMS:
        raise ValidationFailed.for_field("items", f"At most {MAX_ITEMS} items per sale.")
    overrides = [
        {"field": f"items.{n}.unitPrice", "message": "Managers and admins only."}
        for n, item in enumerate(checkout.items)
        if item.unit_price is not None
    ]
    if overrides and getattr(actor, "role", None) not in (Role.ADMIN, Role.MANAGER, None):
        raise PermissionDenied("Only managers and admins may override a price.", details=overrides)
    rows = catalogue_items([(item.product_id, item.variant_id) for item in checkout.items])
    lines, not_sellable = [], []
    for n, (item, row) in enumerate(zip(checkout.items, rows, strict=True)):
        where = f"items.{n}"
        catalogue_item_identity_check(field=where, requested_variant=item.variant_id, item=row)
        whole_units_check(
            field=f"{where}.quantity", quantity=item.quantity, allows_fraction=row.allows_fraction
        )
        if row.status != "ACTIVE":
            not_sellable.append(
                {"field": where, "message": f"{row.name} is {row.status.lower()}, not for sale."}
            )
        catalogue_price = row.variant_price if row.variant_price is not None else row.price
        lines.append(
            SaleLine(
                item=item,
                name=f"{row.name} ({row.variant_name})" if row.variant_name else row.name,
                sku=row.variant_sku or row.sku,
                unit_price=item.unit_price if item.unit_price is not None else catalogue_price,
                tax_rate=row.tax_rate if row.tax_rate is not None else settings.tax_rate,
                unit_cost=row.unit_cost,
                track_stock=row.track_stock,
            )
        )
    if not_sellable:
        raise BusinessRuleViolation(
            "Some products are not for sale.", code=ErrorCode.NOT_SELLABLE, details=not_sellable
        )
    return lines


@dataclass(frozen=True)
class TillStore:
    code: str
    shift_id: UUID | None  # the open shift whose drawer takes the cash, share-locked


# the store, whether the user works there, and the drawer's shift: one statement per checkout
TILL_STORE_SQL = (
    "SELECT s.code, s.kind, EXISTS (SELECT 1 FROM stores_storeassignment a"
    " WHERE a.store_id = s.id AND a.user_id = %s), {drawer_shift}"
    " FROM stores_store s WHERE s.id = %s AND s.deleted_at IS NULL FOR SHARE OF s"
)


@functools.cache
def _till_store_sql() -> str:
    """TILL_STORE_SQL with the drawer's sub-select (apps.pos's, registered: built at first use)."""
    return TILL_STORE_SQL.format(drawer_shift=drawer.shift_sql().format(store="s.id"))


def till_store_read(store_id: UUID, *, actor) -> TillStore:
    """The live store the sale is made in: RETAIL (422 INVALID_LOCATION for a warehouse) and,
    for a cashier, one of theirs (403); share-locked until the sale commits, with the open shift
    whose drawer takes its cash, whoever rings it (a close waits for this sale; see
    apps.pos.selectors.DRAWER_SHIFT_SQL). One statement."""
    user_id = getattr(actor, "pk", None)
    with connection.cursor() as cursor:
        cursor.execute(_till_store_sql(), [user_id, user_id, user_id, store_id])
        row = cursor.fetchone()
    if row is None:
        raise ValidationFailed.for_field("storeId", "Unknown store.")
    code, kind, assigned, shift_id = row
    if kind != StoreKind.RETAIL:
        raise BusinessRuleViolation(
            "Sales are made in stores, not in warehouses.",
            code=ErrorCode.INVALID_LOCATION,
            details=[{"field": "storeId", "message": "A warehouse."}],
        )
    if getattr(actor, "role", None) == Role.CASHIER and not assigned:
        raise PermissionDenied("You are not assigned to this store.")
    return TillStore(code=code, shift_id=shift_id)


def _customer(customer_id: UUID | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = Customer.objects.alive().select_related("group").filter(pk=customer_id).first()
    if customer is None:
        raise ValidationFailed.for_field("customerId", "Unknown customer.")
    return customer


def _plan_has_loyalty(actor) -> bool:
    """A company moved to a plan without loyalty keeps its points but earns no more."""
    plan = tenant_package(current_tenant(actor))
    return plan is None or plan.has_feature(PlanFeature.LOYALTY)


# --- pricing the cart -----------------------------------------------------------------------------
@dataclass
class Priced:
    """A checkout computed: what a quote answers and what a checkout stores."""

    checkout: Checkout
    store_code: str
    shift_id: UUID | None  # the cash-drawer shift the sale is made in
    customer: Customer | None
    lines: list[SaleLine]
    totals: pricing.CartTotals
    settlement: pricing.Settlement
    group_percent: Decimal
    points_value: Decimal
    points_earned: int
    prices_include_tax: bool
    settings: Any  # the company's, as read for this checkout


def _price(checkout: Checkout, *, actor, cart_only: bool = False) -> Priced:
    """`cart_only`: a cart being built (a quote without payments): priced in full, what it
    leaves due is not a refusal, and points are estimated as if it is paid in full."""
    settings = company_settings(actor)
    till = till_store_read(checkout.store_id, actor=actor)
    if till.shift_id is None and settings.require_open_shift:
        raise drawer.shift_required()
    customer = _customer(checkout.customer_id)
    lines = _lines(checkout, actor=actor, settings=settings)
    approvals.discount_authorize(
        actor=actor, checkout=checkout, lines=lines, customer=customer, settings=settings
    )
    if len(checkout.payments) > MAX_PAYMENTS:
        raise ValidationFailed.for_field("payments", f"At most {MAX_PAYMENTS} payments.")
    needs_customer = [
        {"field": f"payments.{n}.method", "message": "Store credit needs a customer."}
        for n, tender in enumerate(checkout.payments)
        if tender.method == PaymentMethod.STORE_CREDIT and customer is None
    ]
    if checkout.redeem_points and customer is None:
        needs_customer.append({"field": "redeemPoints", "message": "Points need a customer."})
    if needs_customer:
        raise ValidationFailed("A customer is required.", details=needs_customer)
    points_value = ZERO
    if checkout.redeem_points:
        points_value = pricing.cents(checkout.redeem_points * settings.loyalty_point_value)
    group_percent = customer.group.discount_percent if customer and customer.group else ZERO
    totals = pricing.price_cart(
        [
            pricing.LineInput(
                quantity=line.item.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                discount=line.item.discount,
                field=f"items.{n}",
            )
            for n, line in enumerate(lines)
        ],
        group_percent=group_percent,
        cart_discount=checkout.discount,
        points_value=points_value,
        prices_include_tax=settings.prices_include_tax,
    )
    settlement = pricing.settle(
        totals.total,
        checkout.payments,
        rounding_step=Decimal(settings.cash_rounding),
        currency=settings.currency,
    )
    if settlement.due_amount > 0 and customer is None and not cart_only:
        raise BusinessRuleViolation(
            f"{settlement.due_amount} is not paid: only a customer's sale can be paid later.",
            code=ErrorCode.PAYMENT_INSUFFICIENT,
            details=[{"field": "payments", "message": f"{settlement.due_amount} short."}],
        )
    earned = 0
    if customer is not None and settings.loyalty_enabled and _plan_has_loyalty(actor):
        # points are earned on what was paid, not on what is owed
        paid = settlement.total if cart_only else settlement.settled
        earned = math.floor(paid * settings.loyalty_points_per_unit)
    return Priced(
        checkout=checkout,
        store_code=till.code,
        shift_id=till.shift_id,
        customer=customer,
        lines=lines,
        totals=totals,
        settlement=settlement,
        group_percent=group_percent,
        points_value=points_value,
        points_earned=max(earned, 0),
        prices_include_tax=settings.prices_include_tax,
        settings=settings,
    )


# --- the checkout ---------------------------------------------------------------------------------
@dataclass
class CheckoutResult:
    sale: Sale
    replayed: bool  # the same clientSaleId was already checked out: nothing was written


def sale_checkout(*, actor, checkout: Checkout, rollup: bool = True) -> CheckoutResult:
    """Records a sale (see the module's docstring). With a `client_sale_id` already used, the
    stored sale is returned and nothing changes (a till's retry); the same id with another
    checkout is 422 CLIENT_SALE_ID_REUSED. `rollup=False` (the quote, rolled back anyway) leaves
    the company's day in the console's rollup alone, so a quote never waits on its row."""
    fingerprint = checkout.fingerprint()
    with transaction.atomic():
        if checkout.client_sale_id is not None:
            till_store_read(
                checkout.store_id, actor=actor
            )  # a replay answers only who may sell there
            # one writer per clientSaleId: a replay waits for the first to commit, then sees it
            advisory_locks([f"sale:{connection.schema_name}:{checkout.client_sale_id}"])
            existing = Sale.objects.filter(client_sale_id=checkout.client_sale_id).first()
            if existing is not None:
                if existing.request_hash != fingerprint:
                    raise BusinessRuleViolation(
                        "This clientSaleId was used for another sale.",
                        code=ErrorCode.CLIENT_SALE_ID_REUSED,
                        details=[{"field": "clientSaleId", "message": "Already used."}],
                    )
                return CheckoutResult(sale=existing, replayed=True)
        priced = _price(checkout, actor=actor)
        sale = _unsaved_sale(priced, actor=actor)
        sale.request_hash = fingerprint
        _stock_out(sale, priced, actor=actor)
        # a plan's monthly sales: counted under its lock (companies with no such limit: no-op)
        plan_limit_guard(resource=PlanResource.SALES_PER_MONTH, tenant=current_tenant(actor))
        # compiled before the counter is taken: less work while every other till waits on it
        lines = insert_compiled(sale.unsaved_items)
        payments = insert_compiled(sale.unsaved_payments)
        sale.sequence = document_number_next(series=f"sale:{checkout.store_id}")
        sale.number = f"{priced.settings.invoice_prefix}{priced.store_code}-{sale.sequence:06d}"
        audit = audit_entry(
            action="sale.checkout",
            entity_type="sale",
            entity_id=sale.pk,
            actor=actor,
            after={
                "number": sale.number,
                "store_id": sale.store_id,
                "customer_id": sale.customer_id,
                "total": sale.total,
                "paid_total": sale.paid_total,
                "due_amount": sale.due_amount,
                "items": len(sale.unsaved_items),
            },
        )
        # the sale, its lines, its payments and its audit row: one round trip
        rows_insert([sale], lines, payments, sale.unsaved_cash_events, [audit])
        _customer_side(sale, priced, actor=actor)
        events.sale_changed("sale.completed", sale)
        metrics.checkout_completed()
        if rollup:  # last: the company's day row (apps.tenants.usage) held only while committing
            tenant_sale_record(
                tenant_id=current_tenant(actor).pk,
                sold_at=sale.created_at,
                time_zone=priced.settings.timezone,
                total=sale.total,
            )
    return CheckoutResult(sale=sale, replayed=False)


def sale_quote(*, actor, checkout: Checkout) -> Sale:
    """The sale this checkout would make, refusals included: the checkout itself, run in a
    transaction that is rolled back (its number given back, its events and audit row
    dropped), so a quote cannot differ from the checkout. The answer carries no number.

    Without payments it prices the cart the till is building: every figure, the stock and the
    points checked as a checkout checks them, nothing paid (`dueAmount` = the total, no cash
    rounding since no cash is tendered) and nothing refused for being unpaid."""
    if not checkout.payments:
        return _cart_quote(actor=actor, checkout=checkout)
    with transaction.atomic():
        result = sale_checkout(actor=actor, checkout=checkout, rollup=False)
        transaction.set_rollback(True)
    if not result.replayed:
        result.sale.number, result.sale.sequence = "", None
    return result.sale


def _cart_quote(*, actor, checkout: Checkout) -> Sale:
    with transaction.atomic():
        priced = _price(checkout, actor=actor, cart_only=True)
        sale = _unsaved_sale(priced, actor=actor)
        _stock_out(sale, priced, actor=actor)
        _customer_side(sale, priced, actor=actor, charge_due=False)
        transaction.set_rollback(True)
    sale.number, sale.sequence = "", None
    return sale


def _unsaved_sale(priced: Priced, *, actor) -> Sale:
    checkout, totals, settlement = priced.checkout, priced.totals, priced.settlement
    sale = Sale(
        store_id=checkout.store_id,
        cashier_id=getattr(actor, "pk", None),
        customer=priced.customer,
        client_sale_id=checkout.client_sale_id,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        untaxed_gross=totals.untaxed_gross,
        untaxed_discounts=totals.untaxed_discounts,
        rounding_adjustment=settlement.rounding_adjustment,
        total=settlement.total,
        paid_total=settlement.paid_total,
        change_due=settlement.change_due,
        due_amount=settlement.due_amount,
        points_earned=priced.points_earned,
        points_redeemed=checkout.redeem_points,
        points_value=priced.points_value,
        group_discount_percent=priced.group_percent,
        shift_id=priced.shift_id,
        cart_discount=_discount_json(checkout.discount),
        prices_include_tax=priced.prices_include_tax,
        currency=priced.settings.currency,
        note=checkout.note,
    )
    sale.unsaved_items = [
        SaleItem(
            sale=sale,
            sold_at=sale.created_at,
            store_id=checkout.store_id,
            position=n,
            product_id=line.item.product_id,
            variant_id=line.item.variant_id,
            name=line.name,
            sku=line.sku,
            quantity=line.item.quantity,
            unit_price=line.unit_price,
            price_overridden=line.item.unit_price is not None,
            discount=_discount_json(line.item.discount),
            line_discount=amounts.line_discount,
            group_discount=amounts.group_discount,
            cart_discount=amounts.cart_discount,
            points_discount=amounts.points_discount,
            discount_amount=amounts.discount_amount,
            tax_rate=line.tax_rate,
            tax_amount=amounts.tax_amount,
            line_total=amounts.line_total,
            unit_cost=line.unit_cost,
            track_stock=line.track_stock,
            prices_include_tax=priced.prices_include_tax,
        )
        for n, (line, amounts) in enumerate(zip(priced.lines, totals.lines, strict=True))
    ]
    sale.product_ids = sorted({line.product_id for line in sale.unsaved_items})
    references = list(checkout.references) + [""] * len(checkout.payments)
    sale.unsaved_payments = [
        Payment(
            kind=PaymentKind.SALE,
            method=tender.method,
            amount=tender.amount,
            currency=sale.currency,
            reference=references[n],
            store_id=checkout.store_id,
            sale=sale,
            customer=priced.customer,
            created_by=getattr(actor, "pk", None),
            shift_id=priced.shift_id,
        )
        for n, tender in enumerate(checkout.payments)
    ]
    if settlement.change_due > 0:
        sale.unsaved_payments.append(
            Payment(
                kind=PaymentKind.CHANGE,
                method=PaymentMethod.CASH,
                amount=-settlement.change_due,
                currency=sale.currency,
                store_id=checkout.store_id,
                sale=sale,
                customer=priced.customer,
                created_by=getattr(actor, "pk", None),
                shift_id=priced.shift_id,
            )
        )
    sale.unsaved_cash_events = []
    cash = sum((p.amount for p in sale.unsaved_payments if p.method == PaymentMethod.CASH), ZERO)
    if priced.shift_id is not None and cash:
        sale.unsaved_cash_events.append(
            drawer.cash_event(
                shift_id=priced.shift_id,
                type=drawer.SALE,
                amount=cash,
                reference_type="sale",
                reference_id=sale.pk,
                actor_id=getattr(actor, "pk", None),
            )
        )
    return sale


def _discount_json(discount: pricing.Discount | None) -> dict | None:
    return None if discount is None else {"type": discount.type, "value": str(discount.value)}


def _stock_out(sale: Sale, priced: Priced, *, actor) -> None:
    """One SALE movement per stocked item (lines of the same item add up)."""
    quantities: dict[StockKey, Decimal] = {}
    for line in priced.lines:
        if line.track_stock:
            key = StockKey(sale.store_id, line.item.product_id, line.item.variant_id)
            quantities[key] = quantities.get(key, ZERO) + line.item.quantity
    stock_move(
        actor_id=getattr(actor, "pk", None),
        changes=[StockChange(key=key, delta=-quantity) for key, quantity in quantities.items()],
        movement_type="SALE",
        reference_type="sale",
        reference_id=sale.pk,
        settings=priced.settings,
    )


def _customer_side(sale: Sale, priced: Priced, *, actor, charge_due: bool = True) -> None:
    """What the customer owes, spends from store credit, redeems and earns — each through the
    customers' ledger services, in this transaction. `charge_due=False`: a cart not yet paid
    (its due is not a debt yet)."""
    if priced.customer is None:
        return
    reference = customers.Reference("sale", sale.pk)
    store_credit = sum(
        (t.amount for t in priced.checkout.payments if t.method == PaymentMethod.STORE_CREDIT),
        ZERO,
    )
    kwargs = {"actor": actor, "customer_id": priced.customer.pk, "reference": reference}
    if store_credit:
        customers.customer_credit_use(amount=store_credit, note=sale.number, **kwargs)
    if sale.due_amount and charge_due:
        customers.customer_charge(amount=sale.due_amount, note=sale.number, **kwargs)
    if sale.points_redeemed:
        customers.loyalty_redeem(points=sale.points_redeemed, note=sale.number, **kwargs)
    if sale.points_earned:
        customers.loyalty_earn(points=sale.points_earned, note=sale.number, **kwargs)
