"""Writes for sales: checkout (and its dry run, the quote), void, return, and collecting dues.

A checkout is one transaction: the lines are priced by the server (`apps.sales.pricing`) from
the catalogue, the customer's group and the company settings; the stock leaves through the
inventory's one writer (`stock_move`); what the customer owes or spends goes through the
customers' ledger services; the number is taken in the same transaction, so a failed checkout
leaves no trace — no sale, payment, movement, ledger row, event or number.

Every writer here takes its row locks in one order — the sale (and its lines), the store
(shared), stock levels (in the inventory's key order), the store's sale counter (checkouts
only), then the customer — so a checkout, a void, a return and a due collection for the same
customer and products wait for each other instead of deadlocking. The counter comes as late as
it can: every checkout of a store waits on its row until the holder commits, so what runs while
it is held (the inserts of the sale, one round trip, and a customer's ledger) bounds a store's
checkouts per second."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_entry
from apps.catalog.models import Product
from apps.catalog.validation import whole_units_check
from apps.core import metrics
from apps.core.db import (
    advisory_locks,
    document_number_next,
    insert_compiled,
    qualified_table,
    rows_insert,
)
from apps.core.documents import (
    Lifecycle,
    Taking,
    Transition,
    Wanted,
    document_transition,
    lines_take,
)
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.roles import Role
from apps.core.serializers import quantity_text
from apps.core.validation import validate_text
from apps.customers import services as customers
from apps.customers.models import Customer
from apps.inventory.services import StockChange, StockKey, item_identity_check, stock_move
from apps.sales import approval as approvals
from apps.sales import drawer, events, pricing
from apps.sales.models import (
    DueAllocation,
    Payment,
    PaymentKind,
    PaymentMethod,
    Sale,
    SaleItem,
    SaleReturn,
    SaleReturnItem,
    SaleStatus,
)
from apps.stores.models import Store, StoreKind
from apps.tenants.limits import PlanResource, current_tenant, plan_limit_guard, tenant_package
from apps.tenants.models import PlanFeature
from apps.tenants.selectors import tenant_settings_cached

MAX_ITEMS = 100
MAX_PAYMENTS = 10
ZERO = pricing.ZERO


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
_ITEMS_SQL = """
SELECT r.n, p.id, p.name, p.sku, p.status, p.sell_price, p.cost_price, p.tax_rate,
       p.track_stock, COALESCE(u.allows_fraction, false),
       v.id, v.name, v.sku, v.price, v.cost, v.product_id,
       EXISTS (SELECT 1 FROM catalog_productvariant x
                WHERE x.product_id = p.id AND x.deleted_at IS NULL)
FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS r (product_id, variant_id, n)
LEFT JOIN catalog_product p ON p.id = r.product_id AND p.deleted_at IS NULL
LEFT JOIN catalog_unit u ON u.id = p.unit_id
LEFT JOIN catalog_productvariant v ON v.id = r.variant_id AND v.deleted_at IS NULL
ORDER BY r.n
"""


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
    with connection.cursor() as cursor:
        cursor.execute(
            _ITEMS_SQL,
            [
                [item.product_id for item in checkout.items],
                [item.variant_id for item in checkout.items],
            ],
        )
        rows = cursor.fetchall()
    lines, not_sellable = [], []
    for n, (item, row) in enumerate(zip(checkout.items, rows, strict=True)):
        (_, product_id, name, sku, status, price, cost, tax_rate, track_stock, fractions,
         variant_id, variant_name, variant_sku, variant_price, variant_cost, variant_product,
         has_variants) = row  # fmt: skip
        where = f"items.{n}"
        item_identity_check(
            field=where, requested_variant=item.variant_id, product_id=product_id,
            variant_id=variant_id, variant_product=variant_product, has_variants=has_variants,
        )  # fmt: skip
        whole_units_check(
            field=f"{where}.quantity", quantity=item.quantity, allows_fraction=fractions
        )
        if status != "ACTIVE":
            not_sellable.append(
                {"field": where, "message": f"{name} is {status.lower()}, not for sale."}
            )
        catalogue_price = variant_price if variant_price is not None else price
        lines.append(
            SaleLine(
                item=item,
                name=f"{name} ({variant_name})" if variant_name else name,
                sku=variant_sku or sku,
                unit_price=item.unit_price if item.unit_price is not None else catalogue_price,
                tax_rate=tax_rate if tax_rate is not None else settings.tax_rate,
                unit_cost=variant_cost if variant_cost is not None else cost,
                track_stock=track_stock,
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


def _store(store_id: UUID, *, actor) -> TillStore:
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


def _settings(actor=None):
    """The company's settings: those read with the request's user when there is one (no
    query), else read now."""
    tenant = getattr(actor, "tenant", None)
    if tenant is None or tenant.schema_name != connection.schema_name:
        tenant = connection.tenant
    return tenant_settings_cached(tenant=tenant)


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
    settings = _settings(actor)
    till = _store(checkout.store_id, actor=actor)
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


def sale_checkout(*, actor, checkout: Checkout) -> CheckoutResult:
    """Records a sale (see the module's docstring). With a `client_sale_id` already used, the
    stored sale is returned and nothing changes (a till's retry); the same id with another
    checkout is 422 CLIENT_SALE_ID_REUSED."""
    fingerprint = checkout.fingerprint()
    with transaction.atomic():
        if checkout.client_sale_id is not None:
            _store(checkout.store_id, actor=actor)  # a replay answers only who may sell there
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
        result = sale_checkout(actor=actor, checkout=checkout)
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


# --- void -----------------------------------------------------------------------------------------
def _sale_refusal(sale: Sale, action: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"A {sale.status.lower().replace('_', ' ')} sale cannot be {action}ed.",
        code=ErrorCode.INVALID_STATE,
    )


# what each action may start from (a return ends RETURNED or PARTIALLY_RETURNED: the service says)
SALE = Lifecycle(
    model=Sale,
    entity_type="sale",
    not_found="Sale not found.",
    transitions={
        "void": Transition(frozenset({SaleStatus.COMPLETED}), SaleStatus.VOIDED),
        "return": Transition(frozenset({SaleStatus.COMPLETED, SaleStatus.PARTIALLY_RETURNED})),
    },
    refusal=_sale_refusal,
)


def _net_by_method(sale: Sale) -> dict[str, Decimal]:
    """What the sale's payments left with the shop per method (tendered - change - refunds)."""
    net: dict[str, Decimal] = {}
    for method, amount in Payment.objects.filter(sale=sale).values_list("method", "amount"):
        net[method] = net.get(method, ZERO) + amount
    return net


def sale_void(*, actor, sale_id: UUID, reason: str) -> Sale:
    """Cancels a completed sale with no returns, inside the company's void window (422
    VOID_WINDOW_PASSED): the stock comes back (VOID movements), every payment is given back by
    its method, the customer's account, store credit and points are restored exactly. Refused
    (422) once a due of the sale was collected, or when the customer no longer holds the
    points the sale earned."""
    reason = validate_text(reason, field="reason")
    settings = _settings(actor)
    with transaction.atomic():
        sale = SALE.lock(sale_id, "void")
        now = timezone.now()
        if now - sale.created_at > timedelta(hours=settings.void_window_hours):
            raise BusinessRuleViolation(
                f"Sales can be voided within {settings.void_window_hours} hours.",
                code=ErrorCode.VOID_WINDOW_PASSED,
            )
        if sale.due_paid:
            raise BusinessRuleViolation(
                "Payments were collected against this sale's due: return it instead.",
                code=ErrorCode.INVALID_STATE,
            )
        net = _net_by_method(sale)
        cash_back = net.get(PaymentMethod.CASH, ZERO)
        shift_id = drawer.till_shift_id(
            actor=actor, store_id=sale.store_id,
            required=settings.require_open_shift and cash_back != 0,
        )  # fmt: skip
        items = list(sale.items.order_by("position"))
        _stock_back(sale, [(item, item.quantity) for item in items], "VOID", actor=actor)
        money_back = [
            Payment(
                kind=PaymentKind.VOID,
                method=method,
                amount=-amount,
                currency=sale.currency,
                store_id=sale.store_id,
                sale=sale,
                customer_id=sale.customer_id,
                created_by=getattr(actor, "pk", None),
                shift_id=shift_id,
            )
            for method, amount in sorted(net.items())
            if amount
        ]
        Payment.objects.bulk_create(money_back)
        if shift_id is not None and cash_back:
            drawer.cash_event(
                shift_id=shift_id, type=drawer.VOID, amount=-cash_back,
                reference_type="sale", reference_id=sale.pk, actor_id=getattr(actor, "pk", None),
            ).save(force_insert=True)  # fmt: skip
        if sale.customer_id is not None:
            kwargs = {
                "actor": actor,
                "customer_id": sale.customer_id,
                "reference": customers.Reference("sale", sale.pk),
                "note": f"Void of {sale.number}",
            }
            credit = sum(
                (p.amount for p in money_back if p.method == PaymentMethod.STORE_CREDIT), ZERO
            )
            if credit:
                customers.customer_credit_issue(amount=-credit, **kwargs)
            if sale.due_amount:
                customers.customer_void(amount=sale.due_amount, **kwargs)
            if sale.points_earned:
                customers.loyalty_reverse(points=-sale.points_earned, **kwargs)
            if sale.points_redeemed:
                customers.loyalty_reverse(points=sale.points_redeemed, **kwargs)
        document_transition(
            SALE,
            sale,
            action="void",
            actor=actor,
            changes={
                "voided_at": now,
                "voided_by": getattr(actor, "pk", None),
                "void_reason": reason,
                "void_shift_id": shift_id,
            },
            facts={"reason": reason},
            publish=lambda sale: events.sale_changed("sale.voided", sale),
        )
    return sale


def _stock_back(sale: Sale, lines: Sequence[tuple[SaleItem, Decimal]], kind: str, *, actor):
    quantities: dict[StockKey, Decimal] = {}
    for item, quantity in lines:
        if item.track_stock and quantity:
            key = StockKey(sale.store_id, item.product_id, item.variant_id)
            quantities[key] = quantities.get(key, ZERO) + quantity
    stock_move(
        actor_id=getattr(actor, "pk", None),
        changes=[StockChange(key=key, delta=quantity) for key, quantity in quantities.items()],
        movement_type=kind,
        reference_type="sale",
        reference_id=sale.pk,
        allow_negative=True,  # stock coming back is never refused
    )


# --- returns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnLine:
    item_id: UUID
    quantity: Decimal
    restock: bool = True


def _part(quantity: Decimal) -> bool:
    return quantity != quantity.to_integral_value()


def _fractions(items: Iterable[SaleItem]) -> dict[UUID, bool | None]:
    """Whether each sold product's unit allows fractions now (asked only for a part returned)."""
    return dict(
        Product.objects.filter(pk__in={item.product_id for item in items}).values_list(
            "pk", "unit__allows_fraction"
        )
    )


def _returning(fractions: dict[UUID, bool | None]) -> Taking[SaleItem]:
    """A return's quantities against the sale's items: whole units unless the product's unit
    allows fractions now or the line was sold in parts (its unit changed since)."""
    return Taking(
        remaining=lambda item: item.quantity - item.returned_quantity,
        not_a_line="Not an item of this sale.",
        too_little=lambda item: "Must be more than 0.",
        too_much=lambda item, left: f"At most {quantity_text(left)} can be returned.",
        refusal=lambda over: BusinessRuleViolation(
            "More than was sold (minus earlier returns) cannot be returned.",
            code=ErrorCode.RETURN_EXCEEDS_SOLD,
            details=over,
        ),
        unit_check=lambda field, item, quantity: whole_units_check(
            field=field,
            quantity=quantity,
            allows_fraction=fractions.get(item.product_id) or _part(item.quantity),
        ),
    )


def _refunded(item: SaleItem, returned: Decimal) -> Decimal:
    """What the returns of `returned` units of `item` refund in total (see pricing)."""
    return pricing.line_refund(pricing.SoldLine(item.quantity, item.line_total, ZERO), returned)


def sale_return(
    *, actor, sale_id: UUID, items: Sequence[ReturnLine], refund_method: str, reason: str
) -> SaleReturn:
    """Takes back items of a sale (see docs/design/sales.md, *Returns*): never more than sold minus
    already returned (422 RETURN_EXCEEDS_SOLD); the refund is the returned share of the stored
    line amounts and of the cash rounding; it first reduces what the customer still owes for
    the sale, then goes back by `refund_method` — cash never beyond the cash the sale kept, the
    rest to store credit (a customer's sale) or to the sale's other methods. Points earned on
    the returned share are taken back; those the customer no longer holds are taken from the
    refund at the program's point value."""
    reason = validate_text(reason, field="reason")
    if not items:
        raise ValidationFailed.for_field("items", "At least one item is required.")
    settings = _settings(actor)
    with transaction.atomic():
        sale = SALE.lock(sale_id, "return")
        sold = {item.pk: item for item in sale.items.select_for_update().order_by("pk")}
        # the shift before the stock (the lock order); required below once the cash is known
        shift_id = drawer.till_shift_id(actor=actor, store_id=sale.store_id, required=False)
        if refund_method == PaymentMethod.STORE_CREDIT and sale.customer_id is None:
            raise ValidationFailed.for_field("refundMethod", "Store credit needs a customer.")
        fractions = _fractions(sold.values()) if any(_part(line.quantity) for line in items) else {}
        wanted = [Wanted(line.item_id, line.quantity) for line in items]
        picked = lines_take(sold, wanted, _returning(fractions))
        taken = [(item, line) for (item, _), line in zip(picked, items, strict=True)]
        lines_total = sum((item.line_total for item in sold.values()), ZERO)
        refunded_before = sum((_refunded(i, i.returned_quantity) for i in sold.values()), ZERO)
        returning = [
            (pricing.SoldLine(item.quantity, item.line_total, item.returned_quantity,
                              item.tax_amount), line.quantity)
            for item, line in taken
        ]  # fmt: skip
        refunds = [pricing.line_refund(sold_line, quantity) for sold_line, quantity in returning]
        refund_taxes = [
            pricing.line_refund_tax(sold_line, quantity) for sold_line, quantity in returning
        ]
        lines_now = sum(refunds, ZERO)
        refund = lines_now + pricing.rounding_refund(
            sale.rounding_adjustment, lines_total, refunded_before, lines_now
        )
        # locks in the order every sale writer takes them: stock levels, then the customer
        _stock_back(
            sale,
            [(item, line.quantity) for item, line in taken if line.restock],
            "RETURN",
            actor=actor,
        )
        earlier = list(sale.returns.all())
        points = _points_to_reverse(sale, lines_total, refunded_before + lines_now, earlier)
        held = _points_held(sale.customer_id)
        shortfall = max(points - held, 0)
        refund -= min(refund, pricing.cents(shortfall * settings.loyalty_point_value))
        outstanding = sale.due_amount - sale.due_paid - sale.due_returned
        to_due = min(refund, max(outstanding, ZERO))
        sequence = document_number_next(series=f"return:{sale.store_id}")
        store_code = Store.objects.filter(pk=sale.store_id).values_list("code", flat=True)[0]
        sale_return_row = SaleReturn.objects.create(
            number=f"RET-{store_code}-{sequence:06d}",
            sequence=sequence,
            sale=sale,
            store_id=sale.store_id,
            refund_method=refund_method,
            refund_total=refund,
            currency=sale.currency,
            prices_include_tax=sale.prices_include_tax,
            applied_to_due=to_due,
            points_reversed=points - shortfall,
            reason=reason,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        SaleReturnItem.objects.bulk_create(
            SaleReturnItem(
                sale_return=sale_return_row,
                sale_item=item,
                quantity=line.quantity,
                refund_amount=amount,
                tax_amount=tax,
                restock=line.restock,
            )
            for (item, line), amount, tax in zip(taken, refunds, refund_taxes, strict=True)
        )
        for item, line in taken:
            item.returned_quantity += line.quantity
            item.save(update_fields=["returned_quantity"])
        cash_out = _refund_money(
            sale, sale_return_row, refund - to_due, refund_method, shift_id=shift_id, actor=actor
        )
        if cash_out and shift_id is None and settings.require_open_shift:
            raise drawer.shift_required()  # rolls back everything above
        if sale.customer_id is not None:
            kwargs = {
                "actor": actor,
                "customer_id": sale.customer_id,
                "reference": customers.Reference("sale_return", sale_return_row.pk),
                "note": sale_return_row.number,
            }
            if to_due:
                customers.customer_refund(amount=to_due, **kwargs)
            if points - shortfall:
                customers.loyalty_reverse(points=-(points - shortfall), **kwargs)
        fully = all(item.returned_quantity >= item.quantity for item in sold.values())
        document_transition(
            SALE,
            sale,
            action="return",
            actor=actor,
            status=SaleStatus.RETURNED if fully else SaleStatus.PARTIALLY_RETURNED,
            changes={"due_returned": sale.due_returned + to_due},
            facts={
                "return": sale_return_row.number,
                "refund_total": refund,
                "refund_method": refund_method,
                "items": len(taken),
            },
            publish=lambda sale: events.sale_changed(
                "sale.returned", sale, returnId=sale_return_row.pk, refundTotal=refund
            ),
        )
    sale_return_row.sale = sale
    return sale_return_row


def _points_to_reverse(sale: Sale, lines_total, refunded_lines, earlier) -> int:
    """The points earned on everything returned so far, minus those already taken back."""
    if not sale.points_earned or not lines_total:
        return 0
    due = math.floor(sale.points_earned * refunded_lines / lines_total)
    if refunded_lines >= lines_total:
        due = sale.points_earned
    return max(due - sum(r.points_reversed for r in earlier), 0)


def _points_held(customer_id) -> int:
    if customer_id is None:
        return 0
    return (
        Customer.objects.select_for_update()
        .filter(pk=customer_id)
        .values_list("loyalty_points", flat=True)
        .first()
        or 0
    )


def _refund_money(
    sale: Sale, sale_return_row: SaleReturn, amount: Decimal, method: str, *,
    shift_id: UUID | None, actor,
) -> Decimal:  # fmt: skip
    """Pays `amount` back: by `method` as far as the sale's payments allow (cash never beyond
    the cash it kept), the rest to store credit for a customer's sale, else to its other
    methods. Returns the cash paid out (logged in the drawer of `shift_id`)."""
    if amount <= 0:
        return ZERO
    kept = _net_by_method(sale)
    order = [method] + (
        [PaymentMethod.STORE_CREDIT] if sale.customer_id is not None else []
    ) + sorted(m for m in kept if m not in (method, PaymentMethod.STORE_CREDIT))  # fmt: skip
    parts: list[tuple[str, Decimal]] = []
    left = amount
    for candidate in dict.fromkeys(order):
        if left <= 0:
            break
        room = (
            left
            if candidate == PaymentMethod.STORE_CREDIT
            else max(kept.get(candidate, ZERO), ZERO)
        )
        part = min(left, room)
        if part > 0:
            parts.append((candidate, part))
            left -= part
    if left > 0:  # cannot happen: refunds never exceed what the sale was paid
        raise BusinessRuleViolation("Nothing left to refund to.", code=ErrorCode.INVALID_STATE)
    Payment.objects.bulk_create(
        Payment(
            kind=PaymentKind.REFUND,
            method=m,
            amount=-part,
            currency=sale.currency,
            store_id=sale.store_id,
            sale=sale,
            sale_return=sale_return_row,
            customer_id=sale.customer_id,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        for m, part in parts
    )
    cash = sum((part for m, part in parts if m == PaymentMethod.CASH), ZERO)
    if shift_id is not None and cash:
        drawer.cash_event(
            shift_id=shift_id, type=drawer.REFUND, amount=-cash,
            reference_type="sale_return", reference_id=sale_return_row.pk,
            actor_id=getattr(actor, "pk", None),
        ).save(force_insert=True)  # fmt: skip
    credit = sum((part for m, part in parts if m == PaymentMethod.STORE_CREDIT), ZERO)
    if credit:
        customers.customer_credit_issue(
            actor=actor,
            customer_id=sale.customer_id,
            amount=credit,
            reference=customers.Reference("sale_return", sale_return_row.pk),
            note=sale_return_row.number,
        )
    return cash


# --- collecting dues ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueSettled:
    sale: Sale
    paid: Decimal  # by this payment
    remaining: Decimal  # still due on the sale after it


@dataclass
class DueCollection:
    payment: Payment
    settled: list[DueSettled]
    balance: Decimal  # what the customer owes after it


def due_collect(
    *,
    actor,
    customer_id: UUID,
    amount: Decimal,
    method: str,
    reference: str = "",
    store_id: UUID | None = None,
) -> DueCollection:
    """A customer pays what they owe: never more than their balance (422 AMOUNT_EXCEEDS_DUE);
    it settles their oldest due sales first (what is left of it pays the rest of the balance,
    e.g. an opening balance). The payment is booked at `store_id`, else at the store of the
    oldest sale it settles; a cashier collects only in their stores (403). Its audit row is
    the customer's (`customer.balance.payment`, referencing the payment)."""
    if method == PaymentMethod.STORE_CREDIT:
        raise ValidationFailed.for_field("method", "Dues are paid with money, not store credit.")
    amount = pricing.cents(amount)
    with transaction.atomic():
        # the due sales first, then the customer: the order returns and voids lock them in
        dues = list(
            Sale.objects.select_for_update(of=("self",))
            .filter(customer_id=customer_id, due_amount__gt=F("due_paid") + F("due_returned"))
            .order_by("created_at", "id")
        )
        payment_id = uuid.uuid4()
        entry = customers.customer_pay(  # locks the customer; refuses more than the balance
            actor=actor,
            customer_id=customer_id,
            amount=amount,
            reference=customers.Reference("payment", payment_id),
            note=reference,
        )
        if store_id is None:
            if not dues:
                raise ValidationFailed.for_field("storeId", "Name the store that takes it.")
            store_id = dues[0].store_id
        shift_id = _store(store_id, actor=actor).shift_id
        settings = _settings(actor)
        if method == PaymentMethod.CASH and shift_id is None and settings.require_open_shift:
            raise drawer.shift_required()
        payment = Payment.objects.create(
            id=payment_id,
            kind=PaymentKind.DUE,
            method=method,
            amount=amount,
            currency=settings.currency,
            reference=reference,
            store_id=store_id,
            customer_id=customer_id,
            created_by=getattr(actor, "pk", None),
            shift_id=shift_id,
        )
        if shift_id is not None and method == PaymentMethod.CASH:
            drawer.cash_event(
                shift_id=shift_id, type=drawer.DUE_PAYMENT, amount=amount,
                reference_type="payment", reference_id=payment.pk,
                actor_id=getattr(actor, "pk", None),
            ).save(force_insert=True)  # fmt: skip
        settled, left = [], amount
        for sale in dues:
            if left <= 0:
                break
            paid = min(left, sale.due_amount - sale.due_paid - sale.due_returned)
            sale.due_paid += paid
            sale.save(update_fields=["due_paid", "updated_at"])
            DueAllocation.objects.create(payment=payment, sale=sale, amount=paid)
            remaining = sale.due_amount - sale.due_paid - sale.due_returned
            settled.append(DueSettled(sale=sale, paid=paid, remaining=remaining))
            left -= paid
        events.payment_received(payment)
    return DueCollection(payment=payment, settled=settled, balance=entry.balance_after)


# --- receipt counters -----------------------------------------------------------------------------
def _receipt_count_next(table: str, column: str, pk: UUID) -> int:
    """One UPDATE of the counter itself (so concurrent generations get distinct numbers),
    returning its new value; in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qualified_table(table)} SET {column} = {column} + 1 "  # noqa: S608
            f"WHERE id = %s RETURNING {column}",
            [pk],
        )
        (number,) = cursor.fetchone()
    return number


def sale_receipt_counted(*, sale_id: UUID, void: bool = False) -> int:
    """One more receipt given of the sale (of its void when `void`): its number (1 = the
    original). Used by `apps.receipts`; runs in the caller's transaction."""
    column = "void_receipt_count" if void else "receipt_count"
    return _receipt_count_next(Sale._meta.db_table, column, sale_id)


def sale_return_receipt_counted(*, sale_return_id: UUID) -> int:
    """One more receipt given of the return: its number (1 = the original). Used by
    `apps.receipts`; runs in the caller's transaction."""
    return _receipt_count_next(SaleReturn._meta.db_table, "receipt_count", sale_return_id)
