"""What the sale writers share: the company's settings as the request read them, the sale's
lifecycle (its table of transitions), what the shop kept per payment method, and stock coming back
from a void or a return."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import connection

from apps.core.documents import (
    Lifecycle,
    Transition,
)
from apps.core.errors import (
    BusinessRuleViolation,
    ErrorCode,
)
from apps.inventory.services import StockChange, StockKey, stock_move
from apps.sales import pricing
from apps.sales.models import (
    Payment,
    Sale,
    SaleItem,
    SaleStatus,
)
from apps.tenants.selectors import tenant_settings_cached

MAX_ITEMS = 100
MAX_PAYMENTS = 10
ZERO = pricing.ZERO


def company_settings(actor=None):
    """The company's settings: those read with the request's user when there is one (no
    query), else read now."""
    tenant = getattr(actor, "tenant", None)
    if tenant is None or tenant.schema_name != connection.schema_name:
        tenant = connection.tenant
    return tenant_settings_cached(tenant=tenant)


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


def net_by_method(sale: Sale) -> dict[str, Decimal]:
    """What the sale's payments left with the shop per method (tendered - change - refunds)."""
    net: dict[str, Decimal] = {}
    for method, amount in Payment.objects.filter(sale=sale).values_list("method", "amount"):
        net[method] = net.get(method, ZERO) + amount
    return net


def stock_back(sale: Sale, lines: Sequence[tuple[SaleItem, Decimal]], kind: str, *, actor):
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
