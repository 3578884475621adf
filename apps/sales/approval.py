"""How far below the catalogue a seller may sell on their own, and a manager's approval beyond.

The company's settings give each role a limit (`maxDiscountPercent`, e.g. CASHIER 10, MANAGER 50,
ADMIN 100). What a checkout asks is measured per line, as the part of the line's catalogue price
the seller's own choices take away, compounded:

    kept = (override / catalogue price, when below it)
           x (1 - the line's discount: its percent, or an AMOUNT's share of the line's gross)
           x (1 - the cart discount: its percent, or an AMOUNT's share of the lines' remainder)
    asked = (1 - kept) x 100, the largest over the lines

so one discount alone counts as its own percent, and a 10 % line discount plus a 10 % cart
discount counts as 19 % (splitting a discount in two does not pass the limit). The customer's
group discount and redeemed points are the company's rules, not the seller's: they do not count
(the cart discount's share is taken of what it applies to, after the group discount). A price
above the catalogue does not make room for a discount. The percent is rounded up to the cent
(10.004 % is asked as 10.01 %, beyond a 10 % limit).

Beyond the limit the checkout (and the quote, which runs it) needs `approval` in the same request:
a user of the same company, active, whose role's own limit covers what is asked, named by email
and password or by user id and PIN (PUT /users/me/pin). Without it, or with a refused one: 403
APPROVAL_REQUIRED, details [{field, message, limit, requested}] (the seller's limit), never 401 —
the seller's session is not in question. Refused credentials count against the approver
(apps.users.services.approver_verify): past five in 15 minutes, 429 with Retry-After. An approval
is written to the audit trail (action `sale.discount_approved`) in the checkout's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from apps.audit.services import audit_record
from apps.catalog.models import Product, ProductVariant
from apps.core.errors import ErrorCode, PermissionDenied
from apps.customers.models import Customer
from apps.sales import pricing
from apps.tenants.limits import current_tenant
from apps.users import services as users

if TYPE_CHECKING:
    from apps.sales.services import Checkout, SaleLine

APPROVED = "sale.discount_approved"
ZERO = pricing.ZERO
ONE = Decimal(1)
HUNDRED = pricing.HUNDRED
_ARTEFACTS = Decimal("0.000001")  # below this, a quotient's last digits are noise
_PERCENT_CENT = Decimal("0.01")


class Approval:
    """The approver's credentials, as sent: `email` and `password`, or `user_id` and `pin`.

    Not a dataclass on purpose, and its text names no secret: a checkout's fingerprint (stored on
    the sale, Checkout.fingerprint) hashes `asdict(checkout)`, which would put the PIN — 4 to 8
    digits, found back from a SHA-256 in seconds — into a column anyone with the sales reads."""

    __slots__ = ("email", "password", "pin", "user_id")

    def __init__(
        self, *, email: str = "", password: str = "", user_id: UUID | None = None, pin: str = ""
    ) -> None:
        self.email, self.password, self.user_id, self.pin = email, password, user_id, pin

    @property
    def method(self) -> str:
        return "pin" if self.user_id is not None else "password"

    def __repr__(self) -> str:
        return f"Approval(by {self.method})"

    def __deepcopy__(self, memo: dict) -> Approval:  # immutable: asdict() may share it
        return self


@dataclass(frozen=True)
class Asked:
    percent: Decimal  # the largest reduction asked, in percent, rounded up to the cent
    field: str  # where: "items.2" (its override or own discount) or "discount" (the cart's)


def _text(percent: Decimal) -> str:
    """A percent as the settings write it: "10", "12.5", "10.01"."""
    return format(percent.normalize(), "f")


def role_limit(settings: Any, role: str) -> Decimal:
    """The company's limit for `role`; a role it does not name gives no discount on its own."""
    value = (settings.max_discount_percent or {}).get(role)
    return Decimal(str(value)) if value is not None else ZERO


def _catalogue_prices(lines: Sequence[SaleLine]) -> dict[int, Decimal]:
    """The catalogue unit price of each line whose price was overridden, by position (one query
    per kind of row, and none when nothing was overridden)."""
    overridden = [
        (n, line.item) for n, line in enumerate(lines) if line.item.unit_price is not None
    ]
    if not overridden:
        return {}
    variant_ids = {item.variant_id for _, item in overridden if item.variant_id is not None}
    variants = (
        dict(ProductVariant.objects.filter(pk__in=variant_ids).values_list("pk", "price"))
        if variant_ids
        else {}
    )
    products = dict(
        Product.objects.filter(pk__in={item.product_id for _, item in overridden}).values_list(
            "pk", "sell_price"
        )
    )
    prices = {}
    for n, item in overridden:
        variant_price = variants.get(item.variant_id)  # as the checkout prices it
        prices[n] = variant_price if variant_price is not None else products[item.product_id]
    return prices


def discount_asked(
    *, checkout: Checkout, lines: Sequence[SaleLine], group_percent: Decimal
) -> Asked | None:
    """What the checkout asks (see the module's docstring); None when it asks nothing (no
    override, no discount: the usual sale, at no cost). A discount pricing refuses (above 100 %,
    above what it applies to) is refused here already, with pricing's own 422."""
    if checkout.discount is None and not any(
        line.item.discount is not None or line.item.unit_price is not None for line in lines
    ):
        return None
    catalogue = _catalogue_prices(lines)
    # the amounts the sale will have, before tax (tax does not change what a discount is of)
    amounts = pricing.price_cart(
        [
            pricing.LineInput(
                quantity=line.item.quantity,
                unit_price=line.unit_price,
                tax_rate=ZERO,
                discount=line.item.discount,
                field=f"items.{n}",
            )
            for n, line in enumerate(lines)
        ],
        group_percent=group_percent,
        cart_discount=checkout.discount,
    ).lines
    cart_kept = ONE
    if checkout.discount is not None:
        if checkout.discount.type == pricing.PERCENT:
            cart_kept -= checkout.discount.value / HUNDRED
        else:
            base = sum((a.gross - a.line_discount - a.group_discount for a in amounts), ZERO)
            cart_kept -= checkout.discount.value / base if base else ZERO
    largest, where = None, "discount"
    for n, (line, a) in enumerate(zip(lines, amounts, strict=True)):
        kept = cart_kept
        price = catalogue.get(n)
        overridden_below = price is not None and price > 0 and line.unit_price < price
        if overridden_below:
            kept *= line.unit_price / price
        own = line.item.discount
        if own is not None:
            if own.type == pricing.PERCENT:
                kept *= ONE - own.value / HUNDRED
            elif a.gross > 0:
                kept *= ONE - own.value / a.gross
        reduction = (ONE - kept) * HUNDRED
        if largest is None or reduction > largest:
            largest = reduction
            where = f"items.{n}" if overridden_below or own is not None else "discount"
    percent = largest.quantize(_ARTEFACTS, ROUND_HALF_UP).quantize(_PERCENT_CENT, ROUND_UP)
    return Asked(percent=max(percent, ZERO), field=where)


def _refused(message: str, *, field: str, limit: Decimal, asked: Asked) -> PermissionDenied:
    return PermissionDenied(
        message,
        code=ErrorCode.APPROVAL_REQUIRED,
        details=[
            {
                "field": field,
                "message": message,
                "limit": _text(limit),
                "requested": _text(asked.percent),
            }
        ],
    )


def discount_authorize(
    *,
    actor,
    checkout: Checkout,
    lines: Sequence[SaleLine],
    customer: Customer | None,
    settings: Any,
) -> None:
    """Lets the checkout through when what it asks is within the actor's limit or carries a
    valid approval (then audited in the caller's transaction); else 403 APPROVAL_REQUIRED (429
    once the approver has too many refusals). Called by the checkout's pricing, so a quote
    refuses exactly as the checkout does."""
    role = getattr(actor, "role", None)
    if role is None:  # the system itself (demo data): no seller, no limit
        return
    group_percent = (
        customer.group.discount_percent if customer is not None and customer.group else ZERO
    )
    asked = discount_asked(checkout=checkout, lines=lines, group_percent=group_percent)
    limit = role_limit(settings, role)
    if asked is None or asked.percent <= limit:
        return
    approval = checkout.approval
    if approval is None:
        raise _refused(
            f"A discount of {_text(asked.percent)} % is beyond your limit of {_text(limit)} %:"
            " it needs a manager's approval.",
            field=asked.field,
            limit=limit,
            asked=asked,
        )
    approver = users.approver_verify(
        tenant_id=current_tenant(actor).pk,
        email=approval.email,
        password=approval.password,
        user_id=approval.user_id,
        pin=approval.pin,
    )
    if approver is None:
        raise _refused(
            "The approval was refused: the credentials are wrong, or not those of an active user"
            " of this company.",
            field="approval",
            limit=limit,
            asked=asked,
        )
    approver_limit = role_limit(settings, approver.role)
    if asked.percent > approver_limit:
        raise _refused(
            f"The approval was refused: {approver.name} may approve up to"
            f" {_text(approver_limit)} %.",
            field="approval",
            limit=limit,
            asked=asked,
        )
    audit_record(
        action=APPROVED,
        entity_type="user",  # the approver (the sale has no id yet; request_id links the two)
        entity_id=approver.pk,
        actor=actor,
        after={
            "approver_id": approver.pk,
            "approver_role": approver.role,
            "method": approval.method,
            "limit": _text(limit),
            "requested": _text(asked.percent),
            "approver_limit": _text(approver_limit),
            "store_id": checkout.store_id,
            "client_sale_id": checkout.client_sale_id,
        },
    )
