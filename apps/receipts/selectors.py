"""Reads for receipts: the template that applies, and a receipt's data (the one source the JSON,
HTML, PDF, text and e-mail forms are all rendered from).

Every amount comes from what the sale, its lines, payments and returns stored: a receipt never
prices anything again, so it agrees with the sale to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone

from apps.core.errors import BusinessRuleViolation, ErrorCode, NotFound
from apps.receipts.models import ReceiptTemplate
from apps.sales.models import Payment, PaymentKind, Sale, SaleItem, SaleReturn, SaleStatus
from apps.tenants import receipt_layout as layout
from apps.tenants.models import Tenant
from apps.tenants.selectors import tenant_settings_cached
from apps.users.models import User

ZERO = Decimal("0.00")


class Document:
    SALE, RETURN, VOID = "SALE", "RETURN", "VOID"
    ALL = (SALE, RETURN, VOID)


TITLES = {Document.SALE: "Sale receipt", Document.RETURN: "Return receipt", Document.VOID: "Void"}


# --- templates ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    header: str
    footer: str
    show_logo: bool
    fields: dict[str, bool]
    return_policy_text: str
    paper: str
    locale: str
    store_id: UUID | None  # None: the company's template

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "footer": self.footer,
            "show_logo": self.show_logo,
            "fields": dict(self.fields),
            "return_policy_text": self.return_policy_text,
            "paper": self.paper,
            "locale": self.locale,
            "store_id": self.store_id,
        }


def company_template(settings) -> Template:
    """The company's template, as its settings hold it (the defaults before anyone sets it)."""
    return Template(
        header=settings.receipt_header,
        footer=settings.receipt_footer,
        show_logo=settings.receipt_show_logo,
        fields={**layout.FIELD_DEFAULTS, **(settings.receipt_fields or {})},
        return_policy_text=settings.receipt_return_policy,
        paper=layout.PAPER_BY_WIDTH.get(settings.receipt_paper_width_mm, "80mm"),
        locale=settings.receipt_locale or layout.DEFAULT_LOCALE,
        store_id=None,
    )


def store_template(row: ReceiptTemplate) -> Template:
    return Template(
        header=row.header,
        footer=row.footer,
        show_logo=row.show_logo,
        fields={**layout.FIELD_DEFAULTS, **row.fields},
        return_policy_text=row.return_policy_text,
        paper=row.paper,
        locale=row.locale,
        store_id=row.store_id,
    )


def template_for(*, settings, store_id: UUID | None) -> Template:
    """The store's own template when it has one, else the company's."""
    if store_id is not None:
        row = ReceiptTemplate.objects.filter(store_id=store_id).first()
        if row is not None:
            return store_template(row)
    return company_template(settings)


# --- the document a receipt is printed of --------------------------------------------------------
@dataclass(frozen=True)
class ReceiptDocument:
    kind: str  # Document.*
    sale: Sale  # with store, customer, lines, payments and returns loaded
    sale_return: SaleReturn | None = None

    @property
    def number(self) -> str:
        return self.sale_return.number if self.sale_return else self.sale.number

    @property
    def person_id(self) -> UUID | None:
        """Who made the document: the cashier of the sale, of the return, of the void."""
        if self.kind == Document.RETURN:
            return self.sale_return.created_by
        if self.kind == Document.VOID:
            return self.sale.voided_by
        return self.sale.cashier_id


def _sale_with_everything():
    return Sale.objects.select_related("store", "customer").prefetch_related(
        Prefetch("items", queryset=SaleItem.objects.order_by("position")),
        Prefetch("payments", queryset=Payment.objects.order_by("created_at", "id")),
        Prefetch(
            "returns",
            queryset=SaleReturn.objects.prefetch_related("items").order_by("created_at", "id"),
        ),
    )


def receipt_document_get(
    *,
    sale_id: UUID,
    store_ids: list[UUID] | None,
    kind: str = Document.SALE,
    return_id: UUID | None = None,
) -> ReceiptDocument:
    """The sale (of a store `store_ids` allows; None: any) and the document of it asked for: 404
    when the sale or the return is not the company's (or not the caller's store's), 422 for a
    void receipt of a sale that is not voided."""
    sales = _sale_with_everything()
    if store_ids is not None:
        sales = sales.filter(store_id__in=store_ids)
    sale = sales.filter(pk=sale_id).first()
    if sale is None:
        raise NotFound("Sale not found.")
    if kind == Document.RETURN:
        sale_return = next((r for r in sale.returns.all() if r.pk == return_id), None)
        if sale_return is None:
            raise NotFound("Return not found.")
        return ReceiptDocument(kind, sale, sale_return)
    if kind == Document.VOID and sale.status != SaleStatus.VOIDED:
        raise BusinessRuleViolation(
            "The sale is not voided: it has no void receipt.", code=ErrorCode.INVALID_STATE
        )
    return ReceiptDocument(kind, sale)


# --- the receipt's data ---------------------------------------------------------------------------
def _tax_summary(rows: list[tuple[Decimal, Decimal, Decimal]]) -> list[dict[str, Decimal]]:
    """(rate, amount paid tax included, tax in it) rows → one row per rate, by rate."""
    by_rate: dict[Decimal, list[Decimal]] = {}
    for rate, amount, tax in rows:
        base_tax = by_rate.setdefault(rate, [ZERO, ZERO])
        base_tax[0] += amount - tax
        base_tax[1] += tax
    return [
        {"rate": rate, "base": base, "tax": tax} for rate, (base, tax) in sorted(by_rate.items())
    ]


def _payments(payments: list[Payment]) -> list[dict[str, Any]]:
    return [{"method": p.method, "amount": p.amount, "reference": p.reference} for p in payments]


def _sale_part(sale: Sale, lines: list[SaleItem]) -> dict[str, Any]:
    items = [
        {
            "name": line.name,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": line.discount_amount,
            "tax_rate": line.tax_rate,
            "tax": line.tax_amount,
            "total": line.line_total,
        }
        for line in lines
    ]
    return {
        "items": items,
        "tax_summary": _tax_summary(
            [(line.tax_rate, line.line_total, line.tax_amount) for line in lines]
        ),
        "discounts": {
            "line": sum((line.line_discount for line in lines), ZERO),
            "group": sum((line.group_discount for line in lines), ZERO),
            "cart": sum((line.cart_discount for line in lines), ZERO),
            "points": sum((line.points_discount for line in lines), ZERO),
        },
        "totals": {
            "subtotal": sale.subtotal,
            "discount_total": sale.discount_total,
            "tax_total": sale.tax_total,
            "rounding_adjustment": sale.rounding_adjustment,
            "total": sale.total,
        },
    }


def _return_part(sale_return: SaleReturn, lines: dict[UUID, SaleItem]) -> dict[str, Any]:
    """What was returned and refunded. The refund of a line holds the tax the return stored
    for it (the line's tax prorated like the refund); the refund's own cash rounding is what
    the refund total holds beyond its lines. The subtotal is in the sale's pricing mode (the
    refunds without their tax when prices excluded it), so the return's figures satisfy the
    sale's identity."""
    items, taxed = [], []
    for item in sale_return.items.all():
        line = lines[item.sale_item_id]
        tax = item.tax_amount  # stored by the return (the line's tax, prorated)
        items.append(
            {
                "name": line.name,
                "sku": line.sku,
                "quantity": item.quantity,
                "unit_price": line.unit_price,
                "discount": ZERO,
                "tax_rate": line.tax_rate,
                "tax": tax,
                "total": item.refund_amount,
                "restock": item.restock,
            }
        )
        taxed.append((line.tax_rate, item.refund_amount, tax))
    lines_total = sum((item["total"] for item in items), ZERO)
    summary = _tax_summary(taxed)
    tax_total = sum((row["tax"] for row in summary), ZERO)
    return {
        "items": items,
        "tax_summary": summary,
        "discounts": None,
        "totals": {
            "subtotal": lines_total if sale_return.prices_include_tax else lines_total - tax_total,
            "discount_total": ZERO,
            "tax_total": tax_total,
            "rounding_adjustment": sale_return.refund_total - lines_total,
            "total": sale_return.refund_total,
        },
    }


def receipt_data(
    *,
    document: ReceiptDocument,
    template: Template,
    tenant,
    settings,
    cashier_name: str,
    print_number: int,
    gift: bool,
) -> dict[str, Any]:
    """The receipt as data (snake_case keys; the API camel-cases them). `print_number` is this
    print's number (1 = the original, 0 = not a print: a preview or a data read, never a COPY);
    `gift` leaves every price out. Currency and pricing mode are the document's own, as stored,
    never the company's current settings."""
    sale, fields = document.sale, template.fields
    lines = list(sale.items.all())
    payments = list(sale.payments.all())
    if document.kind == Document.RETURN:
        sale_return = document.sale_return
        part = _return_part(sale_return, {line.pk: line for line in lines})
        paid = [p for p in payments if p.sale_return_id == sale_return.pk]
        issued_at, reason = sale_return.created_at, sale_return.reason
        change_due, due_amount = ZERO, sale_return.applied_to_due  # owed less
    else:
        part = _sale_part(sale, lines)
        if document.kind == Document.VOID:
            paid = [p for p in payments if p.kind == PaymentKind.VOID]
            issued_at, reason = sale.voided_at, sale.void_reason
        else:
            paid = [p for p in payments if p.kind == PaymentKind.SALE]
            issued_at, reason = sale.created_at, ""
        change_due, due_amount = sale.change_due, sale.due_amount
    store, customer = sale.store, sale.customer
    zone = store.timezone or settings.timezone or "UTC"
    data: dict[str, Any] = {
        "document": document.kind,
        "title": "Gift receipt" if gift else TITLES[document.kind],
        "number": document.number,
        "sale_id": sale.pk,
        "sale_number": sale.number,
        "return_id": document.sale_return.pk if document.sale_return else None,
        "issued_at": issued_at,
        "time_zone": zone,
        "issued_at_local": timezone.localtime(issued_at, ZoneInfo(zone)).isoformat(),
        "copy": print_number > 1,
        "print_number": print_number,
        "gift": gift,
        "paper": template.paper,
        "locale": template.locale,
        "currency": (document.sale_return or sale).currency,
        "prices_include_tax": (document.sale_return or sale).prices_include_tax,
        "company": {
            "name": tenant.name,
            "legal_name": tenant.legal_name,
            "tax_id": tenant.tax_id,
            "address": tenant.address,
            "phone": tenant.phone,
            "email": tenant.email,
            "logo_url": tenant.logo_url if template.show_logo and tenant.logo_url else None,
        },
        "store": {
            "id": store.pk,
            "name": store.name,
            "code": store.code,
            "address": store.address,
            "phone": store.phone,
            "receipt_header": store.receipt_header,
        },
        "header": template.header,
        "footer": template.footer,
        "cashier": {"id": document.person_id, "name": cashier_name} if fields["cashier"] else None,
        "customer": (
            {"id": customer.pk, "code": customer.code, "name": customer.name}
            if customer is not None and fields["customer"]
            else None
        ),
        "reason": reason,
        **part,
        "payments": _payments(paid),
        "change_due": change_due,
        "due_amount": due_amount,
        "loyalty": (
            {
                "earned": sale.points_earned,
                "redeemed": sale.points_redeemed,
                "reversed": document.sale_return.points_reversed if document.sale_return else 0,
                "balance": customer.loyalty_points,
            }
            if customer is not None and fields["loyalty"] and document.kind == Document.SALE
            else None
        ),
        "return_policy": (
            template.return_policy_text
            if fields["return_policy"] and template.return_policy_text
            else None
        ),
        "qr_payload": sale.number if fields["qr"] else None,
    }
    if not fields["tax_summary"]:
        data["tax_summary"] = []
    if gift:  # what was bought, never what it cost
        data["items"] = [
            {"name": item["name"], "sku": item["sku"], "quantity": item["quantity"]}
            for item in data["items"]
        ]
        data.update(
            tax_summary=[], discounts=None, totals=None, payments=[], change_due=None,
            due_amount=None, loyalty=None,
        )  # fmt: skip
    return data


def cashier_name(user_id: UUID | None) -> str:
    if user_id is None:
        return ""
    return User.objects.filter(pk=user_id).values_list("name", flat=True).first() or ""


def receipt_for(
    *,
    document: ReceiptDocument,
    tenant,
    print_number: int,
    gift: bool = False,
    paper: str | None = None,
) -> dict[str, Any]:
    """The receipt's data with the template of the sale's store (`paper` overrides its paper)."""
    from dataclasses import replace

    settings = tenant_settings_cached(tenant=tenant)
    template = template_for(settings=settings, store_id=document.sale.store_id)
    if paper is not None:
        template = replace(template, paper=paper)
    return receipt_data(
        document=document,
        template=template,
        tenant=Tenant.objects.get(pk=tenant.pk),  # the company's name and address, fresh
        settings=settings,
        cashier_name=cashier_name(document.person_id) if template.fields["cashier"] else "",
        print_number=print_number,
        gift=gift,
    )
