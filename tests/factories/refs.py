"""The rows of a tenant that fill every path parameter of the generated suites (permissions,
isolation, operator header, query counts, schemathesis), created with the ORM so they do not
depend on the services' signatures. `tests.operations.make_refs` wraps them in its `Refs`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django_tenants.utils import tenant_context

from tests.factories.media import PNG

STATUS_SLUGS = {
    "draft": "DRAFT",
    "archived": "ARCHIVED",
    "discontinued": "DISCONTINUED",
    "coming-soon": "COMING_SOON",
}


def ref_ids(world) -> dict[str, Any]:
    """Objects of `world`'s tenant for every path parameter, created in the test's transaction
    (with the ORM, so the fixtures do not depend on the services' signatures)."""
    from apps.catalog.models import (
        Brand,
        Category,
        Product,
        ProductImage,
        Unit,
        VariantType,
        VariantTypeValue,
    )
    from apps.media.models import ImageAsset
    from apps.tenants.models import Package

    suffix = world.tenant.slug.upper()
    with tenant_context(world.tenant):
        ids: dict[str, Any] = {
            "product": world.product.pk,
            "variant": world.variant.pk,
            "barcode": world.product.barcode,
            "store": world.other_store.pk,  # nobody works there: it may be renamed or deleted
            "cashier": world.cashier.pk,
            "tenant": world.tenant.pk,
            "package": Package.objects.create(name=f"Ref plan {suffix}", max_stores=9).pk,
            "package_2": Package.objects.create(name=f"Ref plan 2 {suffix}").pk,  # lists
            "brand": Brand.objects.create(name=f"Ref brand {suffix}").pk,
            "unit": Unit.objects.create(name=f"Ref unit {suffix}", abbreviation="ru").pk,
            # second rows, so every list has a page of several (tests/test_query_counts.py)
            "brand_2": Brand.objects.create(name=f"Ref brand 2 {suffix}").pk,
            "unit_2": Unit.objects.create(name=f"Ref unit 2 {suffix}", abbreviation="r2").pk,
            "variant_type": VariantType.objects.create(name=f"Material {suffix}").pk,
            "category": Category.objects.create(name=f"Ref category {suffix}").pk,
            "size_l": VariantTypeValue.objects.get(variant_type__name="Size", value="L").pk,
        }
        for slug, status in STATUS_SLUGS.items():
            ids[f"product:{slug}"] = Product.objects.create(
                name=f"{status.title()} thing",
                sku=f"REF-{status}-{suffix}",
                status=status,
                sell_price=Decimal("3.00"),
            ).pk
        image = ImageAsset.objects.create(
            tenant=world.tenant,
            content_type="image/png",
            byte_size=len(PNG),
            width=4,
            height=3,
            sha256="0" * 64,
            data=PNG,
        )
        ProductImage.objects.create(product=world.product, image_id=image.pk, position=0)
        ids["image"] = image.pk
        ids.update(_inventory_refs(world, suffix))
        ids.update(_customer_refs(world, suffix))
        ids.update(_sale_refs(world, suffix))
        ids.update(_till_refs(world))
        ids.update(_expense_refs(world, suffix))
        ids.update(_purchase_refs(world, suffix))
    connection.set_schema_to_public()
    return ids


def _inventory_refs(world, suffix: str) -> dict[str, Any]:
    from apps.catalog.models import Product
    from apps.inventory.models import (
        StockCount,
        StockLevel,
        StockMovement,
        Transfer,
        TransferItem,
    )

    product = Product.objects.create(
        name=f"Stocked thing {suffix}", sku=f"STOCK-{suffix}", status="ACTIVE"
    )
    StockLevel.objects.create(store=world.store, product=product, quantity=Decimal("20"))
    StockMovement.objects.create(
        store=world.store, product=product, type="ADJUSTMENT", delta=20, quantity_after=20
    )
    transfer = Transfer.objects.create(
        number=900_001, from_store=world.store, to_store=world.warehouse
    )
    TransferItem.objects.create(transfer=transfer, product=product, quantity=Decimal("2"))
    count = StockCount.objects.create(number=900_001, store=world.store)  # OPEN, no lines yet
    # more rows for the lists: two low levels (the default threshold is 5), a cancelled
    # transfer, a finalized count elsewhere
    other = Product.objects.create(name=f"Low thing {suffix}", sku=f"LOW-{suffix}", status="ACTIVE")
    for store, item, quantity in ((world.store, other, 2), (world.warehouse, product, 1)):
        StockLevel.objects.create(store=store, product=item, quantity=quantity)
        StockMovement.objects.create(
            store=store, product=item, type="ADJUSTMENT", delta=quantity, quantity_after=quantity
        )
    cancelled = Transfer.objects.create(
        number=900_002, from_store=world.warehouse, to_store=world.store, status="CANCELLED"
    )
    TransferItem.objects.create(transfer=cancelled, product=product, quantity=Decimal("1"))
    StockCount.objects.create(number=900_002, store=world.other_store, status="FINALIZED")
    return {"stock_product": product.pk, "transfer": transfer.pk, "count": count.pk}


def _sale_refs(world, suffix: str) -> dict[str, Any]:
    from apps.catalog.models import Product
    from tests.factories.sales import sale_make

    product = Product.objects.get(sku=f"STOCK-{suffix}")
    product.sell_price = Decimal("1.00")
    product.save(update_fields=["sell_price"])
    sale = sale_make(
        store=world.store, cashier_id=world.cashier.pk, product=product, sequence=900_001
    )
    # a second sale, for the lists
    sale_make(store=world.store, cashier_id=world.cashier.pk, product=product, sequence=900_002)
    return {
        "sale": sale.pk,
        "sale_item": sale.items.get().pk,
        "payment": sale.payments.get().pk,
    }


def _purchase_refs(world, suffix: str) -> dict[str, Any]:
    """A supplier without orders (the target), a second with two orders: the target ORDERED
    (5 of the stocked product at 1.2500), the other RECEIVED."""
    from apps.catalog.models import Product
    from apps.purchasing.models import PurchaseOrder, PurchaseOrderItem, Supplier

    target = Supplier.objects.create(name=f"Target supplier {suffix}")
    busy = Supplier.objects.create(name=f"Busy supplier {suffix}", balance=Decimal("6.25"))
    product = Product.objects.get(sku=f"STOCK-{suffix}")
    orders = []
    for sequence, status in ((900_101, "ORDERED"), (900_102, "RECEIVED")):
        order = PurchaseOrder.objects.create(
            number=f"PO-{sequence}", sequence=sequence, supplier=busy, store=world.store,
            status=status, total=Decimal("6.25"),
            received_total=Decimal("6.25") if status == "RECEIVED" else Decimal("0.00"),
        )  # fmt: skip
        PurchaseOrderItem.objects.create(
            order=order, position=0, product=product, quantity=Decimal("5"),
            received_quantity=Decimal("5") if status == "RECEIVED" else Decimal("0"),
            unit_cost=Decimal("1.2500"), line_total=Decimal("6.25"),
        )  # fmt: skip
        orders.append(order)
    return {
        "supplier": target.pk,
        "purchase": orders[0].pk,
        "purchase_item": orders[0].items.get().pk,
    }


def _expense_refs(world, suffix: str) -> dict[str, Any]:
    """Two categories (one used by two expenses, one unused) and the expenses."""
    from datetime import date

    from apps.expenses.models import Expense, ExpenseCategory

    used = ExpenseCategory.objects.create(name=f"Rent {suffix}")
    unused = ExpenseCategory.objects.create(name=f"Unused {suffix}")
    expenses = [
        Expense.objects.create(
            category=used, store=world.store, amount=Decimal(amount), date=date(2026, 11, day)
        )
        for amount, day in (("800.00", 1), ("45.20", 15))
    ]
    return {
        "expense_category": used.pk,
        "expense_category_unused": unused.pk,
        "expense": expenses[0].pk,
    }


def _till_refs(world) -> dict[str, Any]:
    """The cashier's open shift (float 100.00) at their store, a closed shift with its Z report
    on another drawer, two parked carts, and two of the admin's own sales (the till's lists)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.pos.models import ParkedCart, Shift, ZReport
    from tests.factories.sales import sale_make

    shift = Shift.objects.create(
        store=world.store, cashier_id=world.cashier.pk, opening_float=Decimal("100.00")
    )
    closed = Shift.objects.create(
        store=world.store, drawer="BACK", cashier_id=world.manager.pk,
        opening_float=Decimal("20.00"),
    )  # fmt: skip
    Shift.objects.filter(pk=closed.pk).update(
        status="CLOSED", closed_at=timezone.now(), closed_by=world.manager.pk,
        counted_cash=Decimal("20.00"), expected_cash=Decimal("20.00"), variance=Decimal("0.00"),
    )  # fmt: skip
    ZReport.objects.create(
        shift=closed, store=world.store, sequence=900_001, number=f"Z-{world.store.code}-900001",
        data={"expected_cash": "20.00", "counted_cash": "20.00", "variance": "0.00"},
    )  # fmt: skip
    carts = [
        ParkedCart.objects.create(
            store=world.store,
            label=label,
            created_by=world.cashier.pk,
            cart={"storeId": str(world.store.pk), "items": []},
            expires_at=timezone.now() + timedelta(hours=24),
        )
        for label in ("Table 1", "Table 2")
    ]
    product = world.product
    for sequence in (900_101, 900_102):
        sale_make(store=world.store, cashier_id=world.admin.pk, product=product, sequence=sequence)
    return {"shift": shift.pk, "parked_cart": carts[0].pk}


def _customer_refs(world, suffix: str) -> dict[str, Any]:
    from apps.customers.models import Customer, CustomerGroup, CustomerLedgerEntry, LoyaltyEntry

    group = CustomerGroup.objects.create(name=f"Empty group {suffix}", discount_percent=5)
    member_group = CustomerGroup.objects.create(name=f"Members {suffix}", discount_percent=10)
    customer = Customer.objects.create(
        code=f"C-R{suffix[:6]}", name=f"Ref customer {suffix}", loyalty_points=120
    )
    LoyaltyEntry.objects.create(customer=customer, type="ADJUST", points=120, points_after=120)
    # more rows for the lists: a second customer in a group, owing money, two ledger rows
    second = Customer.objects.create(
        code=f"C-S{suffix[:6]}", name=f"Second customer {suffix}", group=member_group,
        balance=Decimal("7.00"), credit_limit=Decimal("50.00"),
    )  # fmt: skip
    for amount, after in (
        (Decimal("10.00"), Decimal("10.00")),
        (Decimal("-3.00"), Decimal("7.00")),
    ):
        CustomerLedgerEntry.objects.create(
            customer=second, type="ADJUSTMENT", amount=amount, balance_after=after
        )
    return {"customer": customer.pk, "customer_group": group.pk, "customer_owing": second.pk}
