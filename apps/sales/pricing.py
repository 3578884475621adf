"""The money of a sale, as pure functions of Decimals (no database): prices, discounts, taxes,
cash rounding, payments, and refunds of returned items.

The one documented order, line by line:
1. gross = quantity x unit price, rounded to the cent;
2. the line's own discount (PERCENT of gross, or an AMOUNT for the whole line);
3. the customer's group discount, a percent of what is left;
4. the cart discount (PERCENT of the lines' remainder, or an AMOUNT), spread over the lines by
   their share of that remainder;
5. redeemed loyalty points, as a discount spread the same way;
6. tax on what is left (the taxable amount): added to it when prices exclude tax, contained in
   it when prices include tax.
Every amount is rounded to the cent once, where it is made; spreads give away exactly their
total (largest remainder), and every total is a sum of stored line amounts — so a sale, its
receipt, its reports and its refunds cannot disagree by a cent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from apps.core.errors import BusinessRuleViolation, ErrorCode, ValidationFailed
from apps.core.money import CENT, MAX_MONEY, cents

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
PERCENT, AMOUNT = "PERCENT", "AMOUNT"
CASH, STORE_CREDIT = "CASH", "STORE_CREDIT"


@dataclass(frozen=True)
class Discount:
    type: str  # PERCENT | AMOUNT
    value: Decimal


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal  # percent
    discount: Discount | None = None
    field: str = ""  # "items.0", for error details


@dataclass
class LineAmounts:
    gross: Decimal
    line_discount: Decimal
    group_discount: Decimal
    cart_discount: Decimal
    points_discount: Decimal
    tax_amount: Decimal
    line_total: Decimal  # what the customer pays for the line, tax included

    @property
    def discount_amount(self) -> Decimal:
        return self.line_discount + self.group_discount + self.cart_discount + self.points_discount

    @property
    def taxable(self) -> Decimal:
        return self.gross - self.discount_amount


@dataclass
class CartTotals:
    """The figures every document shows, one identity per pricing mode (before cash rounding,
    which the settlement adds as the rounding adjustment):
    - prices exclude tax: subtotal - discount_total + tax_total = total;
    - prices include tax: subtotal - discount_total = total (tax_total is contained in it).
    The subtotal is Σ quantity x unit price, as the prices are shown: with tax when they
    include it, without when they do not."""

    lines: list[LineAmounts]
    subtotal: Decimal  # Σ line gross, before discounts, in the prices' own mode
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal  # = Σ line totals
    # the same gross and discounts without tax in either mode (the sales report's "gross sales"
    # and "discounts"): with prices that include tax, each line's gross less the tax it holds
    # at the line's rate, and its discount less the tax that discount held
    untaxed_gross: Decimal = ZERO
    untaxed_discounts: Decimal = ZERO


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` (cents, ≤ Σ weights) spread over `weights` by their share: each share is the
    floor of its exact share in cents, and the cents left go to the largest remainders (the
    first line on a tie). The shares add up to `amount` exactly, none exceeds its weight."""
    total = sum(weights, ZERO)
    if amount == 0 or total == 0:
        return [ZERO for _ in weights]
    units = int(amount / CENT)
    exact = [Decimal(units) * weight / total for weight in weights]
    shares = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = units - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [Decimal(share) * CENT for share in shares]


def _discount_of(base: Decimal, discount: Discount | None, field: str) -> Decimal:
    if discount is None:
        return ZERO
    if discount.type == PERCENT:
        if not ZERO <= discount.value <= HUNDRED:
            raise _too_much(field, "A percent discount is 0 to 100.")
        return cents(base * discount.value / HUNDRED)
    if discount.value < 0 or discount.value != cents(discount.value):
        raise _too_much(field, "An amount discount is a positive amount in cents.")
    if discount.value > base:
        raise _too_much(field, f"The discount exceeds the amount it applies to ({base}).")
    return discount.value


def _too_much(field: str, message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        message, code=ErrorCode.DISCOUNT_INVALID, details=[{"field": field, "message": message}]
    )


def price_cart(
    lines: Sequence[LineInput],
    *,
    group_percent: Decimal = ZERO,
    cart_discount: Discount | None = None,
    points_value: Decimal = ZERO,
    prices_include_tax: bool = False,
) -> CartTotals:
    """The amounts of every line and the cart's totals, in the documented order. A line whose
    gross rounds to 0.00 while its price is not 0 is refused (422 LINE_ROUNDS_TO_ZERO): goods
    would leave for nothing (0.001 kg at 2.49); a free item (price 0.00) stays allowed."""
    free = [
        {"field": f"{line.field}.quantity", "message": "Worth less than a cent at this price."}
        for line in lines
        if line.unit_price != 0 and cents(line.quantity * line.unit_price) == 0
    ]
    if free:
        raise BusinessRuleViolation(
            "A line's amount rounds to 0.00: sell a larger quantity.",
            code=ErrorCode.LINE_ROUNDS_TO_ZERO,
            details=free,
        )
    # Every amount of a sale is stored in a money column (core.money: under MAX_MONEY); a line or
    # a cart whose amounts cannot be stored is refused here, not by the database (a 500).
    too_large = [
        {"field": f"{line.field}.quantity", "message": f"Its amount must be under {MAX_MONEY}."}
        for line in lines
        if abs(line.quantity * line.unit_price) * (HUNDRED + max(line.tax_rate, ZERO)) / HUNDRED
        >= MAX_MONEY
    ]
    if too_large:
        raise ValidationFailed("A line's amount is larger than a sale can hold.", details=too_large)
    amounts = []
    for line in lines:
        gross = cents(line.quantity * line.unit_price)
        own = _discount_of(gross, line.discount, f"{line.field}.discount")
        group = cents((gross - own) * group_percent / HUNDRED)
        amounts.append(LineAmounts(gross, own, group, ZERO, ZERO, ZERO, ZERO))
    remainder = [a.gross - a.line_discount - a.group_discount for a in amounts]
    cart_total = _discount_of(sum(remainder, ZERO), cart_discount, "discount")
    for a, share in zip(amounts, allocate(cart_total, remainder), strict=True):
        a.cart_discount = share
    remainder = [a.taxable for a in amounts]
    if points_value > sum(remainder, ZERO):
        raise BusinessRuleViolation(
            "The points redeemed are worth more than the sale.",
            code=ErrorCode.POINTS_EXCEED_TOTAL,
            details=[{"field": "redeemPoints", "message": f"At most {sum(remainder, ZERO)}."}],
        )
    for a, share in zip(amounts, allocate(points_value, remainder), strict=True):
        a.points_discount = share
    for a, line in zip(amounts, lines, strict=True):
        if prices_include_tax:
            a.tax_amount = cents(a.taxable * line.tax_rate / (HUNDRED + line.tax_rate))
            a.line_total = a.taxable
        else:
            a.tax_amount = cents(a.taxable * line.tax_rate / HUNDRED)
            a.line_total = a.taxable + a.tax_amount
    discount_total = sum((a.discount_amount for a in amounts), ZERO)
    tax_total = sum((a.tax_amount for a in amounts), ZERO)
    total = sum((a.line_total for a in amounts), ZERO)
    subtotal = sum((a.gross for a in amounts), ZERO)
    if max(subtotal + tax_total, total) >= MAX_MONEY:
        raise ValidationFailed.for_field("items", f"The sale's total must be under {MAX_MONEY}.")
    untaxed_gross, untaxed_discounts = subtotal, discount_total
    if prices_include_tax:
        held = [
            cents(a.gross * line.tax_rate / (HUNDRED + line.tax_rate))
            for a, line in zip(amounts, lines, strict=True)
        ]
        untaxed_gross = subtotal - sum(held, ZERO)
        untaxed_discounts = discount_total - (sum(held, ZERO) - tax_total)
    return CartTotals(
        lines=amounts,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        total=total,
        untaxed_gross=untaxed_gross,
        untaxed_discounts=untaxed_discounts,
    )


# --- payments -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tender:
    method: str
    amount: Decimal


@dataclass
class Settlement:
    rounding_adjustment: Decimal
    total: Decimal  # what the customer owes, rounding included
    paid_total: Decimal  # Σ tendered
    change_due: Decimal  # cash given back
    due_amount: Decimal  # left on the customer's account
    payments: list[Tender] = field(default_factory=list)

    @property
    def settled(self) -> Decimal:
        """What was paid towards the sale (tendered - change)."""
        return self.paid_total - self.change_due


def cash_rounded(amount: Decimal, step: Decimal) -> Decimal:
    """`amount` to the nearest multiple of `step` (half up); `step` 0 leaves it."""
    if step <= 0:
        return amount
    return (amount / step).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * step


# The change one sale may give: at most the larger of CHANGE_MULTIPLE times what the cash pays
# (the total less the non-cash tenders) and the ceiling of the company's currency — 1,000 units,
# more for currencies whose unit is worth little (about ten of their largest banknotes' worth).
# Cash above it is a mistyped amount, not a customer's banknote (999,999,999,999.99 tendered
# for 18.11 would book that much change): 422 OVERPAYMENT naming the cash tender.
CHANGE_MULTIPLE = 10
CHANGE_CEILING = Decimal("1000")
CHANGE_CEILINGS = {
    currency: Decimal(ceiling)
    for currency, ceiling in {
        "CLP": 200_000, "COP": 1_000_000, "HUF": 200_000, "IDR": 10_000_000, "ISK": 100_000,
        "JPY": 100_000, "KRW": 1_000_000, "KZT": 200_000, "PKR": 50_000, "UZS": 2_000_000,
        "VND": 10_000_000,
    }.items()
}  # fmt: skip


def change_limit(cash_due: Decimal, currency: str = "") -> Decimal:
    """The most change cash tendered against `cash_due` may give (see CHANGE_CEILINGS)."""
    ceiling = CHANGE_CEILINGS.get(currency.upper(), CHANGE_CEILING)
    return max(cash_due * CHANGE_MULTIPLE, ceiling)


def settle(
    total: Decimal, tenders: Sequence[Tender], *, rounding_step: Decimal, currency: str = ""
) -> Settlement:
    """Cash rounding applies when cash is tendered (the company's step, stored as the rounding
    adjustment); change comes only from cash, so non-cash tenders above the total are refused
    (422 OVERPAYMENT), as is change above `change_limit` in the company's `currency`; what is
    not paid is the due amount (the caller decides whether the customer may owe it)."""
    has_cash = any(t.method == CASH for t in tenders)
    rounded = cash_rounded(total, rounding_step) if has_cash else total
    adjustment = rounded - total
    paid = sum((t.amount for t in tenders), ZERO)
    non_cash = sum((t.amount for t in tenders if t.method != CASH), ZERO)
    if non_cash > rounded:
        raise BusinessRuleViolation(
            f"Non-cash payments ({non_cash}) exceed the total ({rounded}): only cash gives change.",
            code=ErrorCode.OVERPAYMENT,
            details=[{"field": "payments", "message": f"Non-cash at most {rounded}."}],
        )
    change = max(paid - rounded, ZERO)
    limit = change_limit(rounded - non_cash, currency)
    if change > limit:
        last_cash = max(n for n, t in enumerate(tenders) if t.method == CASH)
        raise BusinessRuleViolation(
            f"Cash tendered gives {change} change, more than the {limit} allowed: "
            "check the amount typed.",
            code=ErrorCode.OVERPAYMENT,
            details=[
                {
                    "field": f"payments.{last_cash}.amount",
                    "message": f"Cash at most {rounded - non_cash + limit} in all.",
                }
            ],
        )
    return Settlement(
        rounding_adjustment=adjustment,
        total=rounded,
        paid_total=paid,
        change_due=change,
        due_amount=max(rounded - paid, ZERO),
        payments=list(tenders),
    )


# --- returns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoldLine:
    quantity: Decimal
    line_total: Decimal
    returned: Decimal  # already returned before this return
    tax_amount: Decimal = ZERO


def prorated(amount: Decimal, *, sold: Decimal, before: Decimal, now: Decimal) -> Decimal:
    """`amount` of a line of `sold` units, for returning `now` more after `before`: the share of
    everything returned so far minus the share of what was returned earlier — so the returns of
    a line add up to `amount` exactly, never more, however they were split."""

    def share(returned: Decimal) -> Decimal:
        return amount if returned >= sold else cents(amount * returned / sold)

    return share(before + now) - share(before)


def line_refund(line: SoldLine, quantity: Decimal) -> Decimal:
    """The refund for returning `quantity` more of `line` (its total, prorated)."""
    return prorated(line.line_total, sold=line.quantity, before=line.returned, now=quantity)


def line_refund_tax(line: SoldLine, quantity: Decimal) -> Decimal:
    """The tax that refund gives back (the line's stored tax, prorated the same way): the
    returns of a whole line give back exactly its tax. Stored on the return's line, so receipts
    and the tax report read one figure."""
    return prorated(line.tax_amount, sold=line.quantity, before=line.returned, now=quantity)


def rounding_refund(
    adjustment: Decimal, lines_total: Decimal, refunded_before: Decimal, refunded_now: Decimal
) -> Decimal:
    """The sale's cash rounding prorated the same way: its share of the line amounts refunded
    so far, minus the share already refunded (the whole of it once everything is returned)."""

    def share(refunded: Decimal) -> Decimal:
        if lines_total == 0 or refunded >= lines_total:
            return adjustment
        return cents(adjustment * refunded / lines_total)

    return share(refunded_before + refunded_now) - share(refunded_before)
