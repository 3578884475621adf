"""Reads for the till: shifts a user may see, a shift's figures (X and Z reports), parked carts,
the till's product search."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from apps.catalog.selectors import category_descendant_ids, category_get
from apps.core.db import dict_rows
from apps.core.errors import NotFound, ValidationFailed
from apps.core.filters import day_and_month_start
from apps.core.roles import Role
from apps.customers.selectors import customer_list, customer_search, customer_search_order
from apps.pos.models import (
    CashEvent,
    CashEventType,
    ParkedCart,
    Shift,
    ShiftStatus,
    ZReport,
)
from apps.sales.models import Payment, PaymentMethod, Sale, SaleReturn, SaleStatus
from apps.sales.selectors import sale_list
from apps.stores.models import Store, StoreAssignment, StoreKind
from apps.stores.selectors import visible_store_ids
from apps.tenants.selectors import company_time_zone, tenant_settings_cached

ZERO = Decimal("0.00")


def till_store_get(*, store_id: UUID, user_id: UUID | None) -> Store | None:
    """The live store, with `assigned`: whether the user works there (one query)."""
    assignment = StoreAssignment.objects.filter(store_id=OuterRef("pk"), user_id=user_id)
    return (
        Store.objects.filter(pk=store_id, deleted_at__isnull=True)
        .annotate(assigned=Exists(assignment))
        .first()
    )


def visible_shifts(*, actor) -> QuerySet[Shift]:
    """A cashier sees their own shifts; managers and admins every shift of the company."""
    shifts = Shift.objects.select_related("store", "z_report")
    if getattr(actor, "role", None) == Role.CASHIER:
        return shifts.filter(cashier_id=actor.pk)
    return shifts


def shift_get(*, actor, shift_id: UUID) -> Shift:
    shift = visible_shifts(actor=actor).filter(pk=shift_id).first()
    if shift is None:
        raise NotFound("Shift not found.")
    return shift


def open_shift_of(*, cashier_id: UUID, store_id: UUID | None = None) -> Shift | None:
    shifts = Shift.objects.select_related("store").filter(
        cashier_id=cashier_id, status=ShiftStatus.OPEN
    )
    if store_id is not None:
        shifts = shifts.filter(store_id=store_id)
    return shifts.first()


# The open shift whose drawer takes the cash of a sale, refund, void or due payment rung by a
# user at a store, whoever rings it: the user's own shift there; else the MAIN drawer's; else
# the store's only open shift. None when no such drawer is open (then the company's
# `require_open_shift` decides: refuse, or record the cash outside any shift, which the store's
# next X/Z report shows). Share-locked until the transaction ends: a close waits for the sale,
# and a sale after the close finds no shift. A scalar subquery with two parameters (user id,
# store id expression) so that the checkout can read it in its one store statement.
DRAWER_SHIFT_SQL = (  # 'MAIN' is MAIN_DRAWER
    "(SELECT sh.id FROM pos_shift sh WHERE sh.store_id = {store} AND sh.status = 'OPEN'"
    " AND ((sh.cashier_id = %s) IS TRUE OR sh.drawer = 'MAIN'"
    " OR NOT EXISTS (SELECT 1 FROM pos_shift o WHERE o.store_id = sh.store_id"
    " AND o.status = 'OPEN' AND o.id <> sh.id))"
    " ORDER BY (sh.cashier_id = %s) IS TRUE DESC, sh.drawer = 'MAIN' DESC"
    " LIMIT 1 FOR SHARE)"
)


def drawer_shift_id_locked(*, user_id: UUID | None, store_id: UUID) -> UUID | None:
    """The open shift whose drawer takes cash rung by `user_id` at the store (see
    DRAWER_SHIFT_SQL), share-locked until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + DRAWER_SHIFT_SQL.format(store="%s"), [store_id, user_id, user_id]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def outside_shift_cash(*, store_id: UUID, until) -> dict[str, Any]:
    """Cash taken or paid out at the store outside any shift (no drawer was open and the company
    does not require one) since the store's previous Z report: shown on its next X/Z report so
    the drawer counts can be reconciled with the payments."""
    previous = (
        ZReport.objects.filter(store_id=store_id, created_at__lt=until)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    payments = Payment.objects.filter(
        store_id=store_id, method=PaymentMethod.CASH, shift__isnull=True, created_at__lte=until
    )
    if previous is not None:
        payments = payments.filter(created_at__gt=previous)
    found = payments.aggregate(count=Count("id"), total=Sum("amount"))
    return {"count": found["count"], "cash": found["total"] or ZERO}


def last_closed_shift(*, store_id: UUID, drawer: str) -> Shift | None:
    return (
        Shift.objects.filter(store_id=store_id, drawer=drawer, status=ShiftStatus.CLOSED)
        .order_by("-closed_at")
        .first()
    )


def expected_cash(shift: Shift) -> Decimal:
    moved = CashEvent.objects.filter(shift=shift).aggregate(total=Sum("amount"))["total"]
    return shift.opening_float + (moved or ZERO)


def shift_figures(shift: Shift) -> dict[str, Any]:
    """The X report (and what the Z report freezes): the cash log by type, expected cash, money
    by payment method, and the shift's sales, returns and voids. Four aggregate queries."""
    by_type = dict(
        CashEvent.objects.filter(shift=shift)
        .values_list("type")
        .annotate(total=Sum("amount"))
        .values_list("type", "total")
    )

    def cash(kind: str, sign: int = 1) -> Decimal:
        total = by_type.get(kind, ZERO)
        return ZERO - total if sign < 0 else total  # (not -total: no "-0.00")

    moved = sum(by_type.values(), ZERO)
    by_method = [
        {"method": method, "total": total}
        for method, total in Payment.objects.filter(shift=shift)
        .values_list("method")
        .annotate(total=Sum("amount"))
        .order_by("method")
        .values_list("method", "total")
    ]
    sales = Sale.objects.filter(shift=shift).aggregate(
        count=Count("id"),
        total=Sum("total", filter=~Q(status=SaleStatus.VOIDED)),
        discounts=Sum("discount_total", filter=~Q(status=SaleStatus.VOIDED)),
        tax=Sum("tax_total", filter=~Q(status=SaleStatus.VOIDED)),
        voided=Count("id", filter=Q(status=SaleStatus.VOIDED)),
    )
    voids = Sale.objects.filter(void_shift=shift).aggregate(count=Count("id"), total=Sum("total"))
    returns = SaleReturn.objects.filter(shift=shift).aggregate(
        count=Count("id"), total=Sum("refund_total")
    )
    now = timezone.now()
    return {
        "opening_float": shift.opening_float,
        "cash_sales": cash(CashEventType.SALE),
        "cash_refunds": cash(CashEventType.REFUND, -1),
        "cash_voids": cash(CashEventType.VOID, -1),
        "cash_due_payments": cash(CashEventType.DUE_PAYMENT),
        "pay_ins": cash(CashEventType.PAY_IN),
        "pay_outs": cash(CashEventType.PAY_OUT, -1),
        "drops": cash(CashEventType.CASH_DROP, -1),
        "expected_cash": shift.opening_float + moved,
        "by_method": by_method,
        "sales_count": sales["count"],
        "sales_total": sales["total"] or ZERO,
        "discount_total": sales["discounts"] or ZERO,
        "tax_total": sales["tax"] or ZERO,
        "voided_sales_count": sales["voided"],
        "returns_count": returns["count"],
        "returns_total": returns["total"] or ZERO,
        "voids_count": voids["count"],
        "voids_total": voids["total"] or ZERO,
        "outside_shift": outside_shift_cash(store_id=shift.store_id, until=now),
        "generated_at": now,
    }


def visible_carts(*, actor) -> QuerySet[ParkedCart]:
    """Unexpired parked carts of the stores the actor works at."""
    carts = ParkedCart.objects.filter(expires_at__gt=timezone.now())
    store_ids = visible_store_ids(user=actor)
    return carts if store_ids is None else carts.filter(store_id__in=store_ids)


def expired_carts(*, store_id: UUID) -> QuerySet[ParkedCart]:
    return ParkedCart.objects.filter(store_id=store_id, expires_at__lte=timezone.now())


# --- the till's product search --------------------------------------------------------------------
# Sellable items (active products; a product with live variants is sold as its variants) with
# their price, tax and the stock at the till's store, one page of products at a time, in one
# statement. The matching ids come from a UNION of index-served lookups (name contains: the
# trigram index on UPPER(name); SKU and barcode prefixes: the pattern btrees), never an OR that
# would scan the catalogue.
TILL_ITEMS_SQL = """
WITH matched AS ({matched}),
page AS (
    SELECT p.id, p.name, p.sku, p.barcode, p.sell_price, p.tax_rate, p.track_stock,
           p.unit_id, p.category_id
    FROM catalog_product p {join}
    WHERE p.deleted_at IS NULL AND p.status = 'ACTIVE' {category}
    ORDER BY p.name, p.id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT page.id AS product_id, v.id AS variant_id, page.name AS product_name,
       v.name AS variant_name, COALESCE(v.sku, page.sku) AS sku,
       COALESCE(v.barcode, CASE WHEN v.id IS NULL THEN page.barcode END) AS barcode,
       COALESCE(v.price, page.sell_price) AS price, page.tax_rate, page.track_stock,
       COALESCE(u.allows_fraction, false) AS allows_fraction, u.abbreviation AS unit,
       page.category_id, l.quantity AS stock
FROM page
LEFT JOIN catalog_productvariant v ON v.product_id = page.id AND v.deleted_at IS NULL
LEFT JOIN catalog_unit u ON u.id = page.unit_id
LEFT JOIN inventory_stocklevel l ON l.store_id = %(store)s AND l.product_id = page.id
     AND l.variant_id IS NOT DISTINCT FROM v.id
ORDER BY page.name, page.id, v.name, v.id
"""
SEARCH_MATCHES = """
    SELECT id FROM catalog_product WHERE deleted_at IS NULL AND UPPER(name) LIKE %(contains)s
    UNION SELECT id FROM catalog_product WHERE deleted_at IS NULL AND UPPER(sku) LIKE %(prefix)s
    UNION SELECT id FROM catalog_product WHERE deleted_at IS NULL AND UPPER(barcode) LIKE %(prefix)s
    UNION SELECT product_id FROM catalog_productvariant WHERE deleted_at IS NULL
          AND (UPPER(sku) LIKE %(prefix)s OR UPPER(barcode) LIKE %(prefix)s)
"""
BARCODE_MATCHES = """
    SELECT id FROM catalog_product WHERE deleted_at IS NULL AND barcode = %(barcode)s
    UNION SELECT product_id FROM catalog_productvariant
          WHERE deleted_at IS NULL AND barcode = %(barcode)s
"""


def _like(text: str) -> str:
    return text.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def till_items(
    *,
    store_id: UUID,
    search: str = "",
    barcode: str = "",
    category_ids: list[UUID] | None = None,
    limit: int = 20,
    offset: int = 0,
    default_tax_rate: Decimal = ZERO,
) -> list[dict[str, Any]]:
    """A page of sellable items: `limit` products from `offset` (by name), each as itself or as
    its live variants; a barcode finds exactly the product or the variant that has it. A
    product without its own tax rate has the company's (`default_tax_rate`)."""
    params: dict[str, Any] = {"store": store_id, "limit": limit, "offset": offset}
    matched, join = "SELECT NULL::uuid AS id", ""
    if barcode:
        matched, join = BARCODE_MATCHES, "JOIN matched m ON m.id = p.id"
        params["barcode"] = barcode
    elif search:
        matched, join = SEARCH_MATCHES, "JOIN matched m ON m.id = p.id"
        params["contains"] = f"%{_like(search)}%"
        params["prefix"] = f"{_like(search)}%"
    category = ""
    if category_ids is not None:
        category = "AND p.category_id = ANY(%(categories)s)"
        params["categories"] = list(category_ids)
    sql = TILL_ITEMS_SQL.format(matched=matched, join=join, category=category)
    with dict_rows(connection.cursor()) as cursor:  # an item per row: its columns by name
        cursor.execute(sql, params)
        items = cursor.fetchall()
    if barcode:  # a variant's barcode: that variant only
        exact = [item for item in items if item["barcode"] == barcode]
        items = exact or items
    for item in items:
        item["name"] = (
            f"{item['product_name']} ({item['variant_name']})"
            if item["variant_name"]
            else item["product_name"]
        )
        if item["stock"] is None and item["track_stock"]:
            item["stock"] = Decimal("0")
        if item["tax_rate"] is None:
            item["tax_rate"] = default_tax_rate
    return items


def working_stores(*, user) -> list[Store]:
    """The live RETAIL stores a user sells at: a cashier's own, every one for the others."""
    stores = Store.objects.filter(deleted_at__isnull=True, kind=StoreKind.RETAIL).order_by("name")
    store_ids = visible_store_ids(user=user)
    return list(stores if store_ids is None else stores.filter(pk__in=store_ids))


def category_ids(category_id: UUID) -> list[UUID]:
    """The category and everything under it (404 when unknown)."""
    category_get(category_id=category_id)
    return list(category_descendant_ids(category_id))


TILL_CUSTOMERS = 20


def till_customers(*, search: str) -> list:
    customers = customer_list()
    if search.strip():
        customers = customer_search(customers, search.strip()[:100])
    return list(customer_search_order(customers)[:TILL_CUSTOMERS])


def till_settings(tenant) -> dict[str, Any]:
    """The company settings a till needs (from the settings the request's user came with)."""
    settings = tenant_settings_cached(tenant=tenant)
    return {
        "currency": settings.currency,
        "timezone": settings.timezone,
        "tax_rate": settings.tax_rate,
        "prices_include_tax": settings.prices_include_tax,
        "cash_rounding": settings.cash_rounding,
        "invoice_prefix": settings.invoice_prefix,
        "require_open_shift": settings.require_open_shift,
        "void_window_hours": settings.void_window_hours,
        "parked_cart_hours": settings.parked_cart_hours,
        "loyalty": {
            "enabled": settings.loyalty_enabled,
            "points_per_unit": str(settings.loyalty_points_per_unit),
            "point_value": str(settings.loyalty_point_value),
            "min_redeem_points": settings.loyalty_min_redeem_points,
        },
        "receipt": {
            "header": settings.receipt_header,
            "footer": settings.receipt_footer,
            "show_logo": settings.receipt_show_logo,
            "paper_width_mm": settings.receipt_paper_width_mm,
        },
    }


def till_sales(*, user, shift_id: UUID | None = None):
    """The user's own sales at the till: those of `shift_id` (one of theirs: 400 otherwise),
    else of their open shift, else of today in the company's time zone."""
    sales = sale_list(store_ids=None).filter(cashier_id=user.pk)
    if shift_id is not None:
        if not Shift.objects.filter(pk=shift_id, cashier_id=user.pk).exists():
            raise ValidationFailed.for_field("shiftId", "Not one of your shifts.")
        return sales.filter(shift_id=shift_id)
    shift = open_shift_of(cashier_id=user.pk)
    if shift is not None:
        return sales.filter(shift=shift)
    today, _ = day_and_month_start(time_zone=company_time_zone(user.tenant))
    return sales.filter(created_at__gte=today, created_at__lte=timezone.now())
