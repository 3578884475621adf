import math
import random
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.catalog.demo import demo_rows
from apps.catalog.imports import products_bulk_import
from apps.catalog.models import Product
from apps.customers.models import Customer, CustomerGroup
from apps.customers.services import (
    customer_balance_adjust,
    customer_create,
    customer_group_create,
    loyalty_adjust,
)
from apps.expenses.models import Expense, ExpenseCategory
from apps.expenses.services import expense_category_create, expense_create
from apps.inventory.models import StockLevel, Transfer
from apps.inventory.selectors import stock_totals
from apps.inventory.services import (
    MAX_ITEMS,
    AdjustItem,
    TransferLine,
    stock_adjust,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from apps.pos.models import Shift, ZReport
from apps.pos.selectors import shift_figures
from apps.pos.services import shift_close, shift_open
from apps.purchasing.models import PurchaseOrder, Supplier
from apps.purchasing.services import OrderLine as PurchaseLine
from apps.purchasing.services import (
    ReceiveLine,
    purchase_cancel,
    purchase_create,
    purchase_pay,
    purchase_receive,
    supplier_create,
)
from apps.sales.models import Sale, SaleReturn
from apps.sales.pricing import Tender
from apps.sales.services import (
    CartItem,
    Checkout,
    ReturnLine,
    sale_checkout,
    sale_quote,
    sale_return,
    sale_void,
)
from apps.stores.models import Store, StoreKind
from apps.stores.services import store_create
from apps.tenants.models import Package, Tenant
from apps.tenants.receipt_layout import FIELD_DEFAULTS
from apps.tenants.services import package_create, tenant_create, tenant_settings_update
from apps.users.models import User
from apps.users.services import staff_create, super_admin_ensure

DEMO_COMPANY = {"name": "Demo Retail", "slug": "demo"}
SUPER_ADMIN = ("root@mipos.local", "Root-pass-2026")
OWNER = ("admin@demo.mipos.local", "Admin-pass-2026")
DEMO_STORES = [
    {"code": "DT", "name": "Downtown", "kind": StoreKind.RETAIL, "address": "1 Main Street"},
    {"code": "MALL", "name": "City Mall", "kind": StoreKind.RETAIL, "address": "City Mall, L2"},
    {"code": "WH1", "name": "Central Warehouse", "kind": StoreKind.WAREHOUSE, "address": "Dock 4"},
]
# (role, email, password, name, store codes)
DEMO_STAFF = [
    ("MANAGER", "manager@demo.mipos.local", "Manager-pass-2026", "Maya Manager", ["DT", "MALL"]),
    ("CASHIER", "cashier1@demo.mipos.local", "Cashier-pass-2026", "Carl Cashier", ["DT"]),
    ("CASHIER", "cashier2@demo.mipos.local", "Cashier-pass-2026", "Cora Cashier", ["MALL"]),
]
DEMO_GROUPS = [("VIP", Decimal("10")), ("Staff", Decimal("20")), ("Wholesale", Decimal("5"))]
FIRST_NAMES = ["Ana", "Bruno", "Carla", "David", "Eva", "Filipe", "Gina", "Hugo", "Ines", "Joao"]
LAST_NAMES = ["Silva", "Costa", "Santos", "Pereira", "Ferreira", "Rocha"]


DEMO_SALE_DAYS = 14
# The company was set up (stores, catalogue, opening stock, customers, staff, purchase orders) the
# morning of the day before its first demo sale, so that every report replayed from the ledgers
# (stock as of a date, the inventory movement report, customer statements) sees it first.
SET_UP_DAYS_AGO = DEMO_SALE_DAYS + 1
SET_UP_HOUR = 8
DEMO_COUNTRY = "PT"  # phone numbers are read in it (issue 25: the demo company is Portuguese)
DEMO_SUPPLIERS = [  # (name, contact, email without its domain suffix, phone, payment terms)
    ("Fresh Foods Wholesale", "Rita Nunes", "orders@freshfoods", "+351 210 100 200", 30),
    ("Lisbon Beverages", "Paulo Reis", "sales@lisbev", "+351 210 300 400", 15),
    ("Urban Apparel Supply", "Ines Lopes", "b2b@urbanapparel", "+351 220 500 600", 45),
]
FLOAT = Decimal("100.00")  # each demo shift's opening float
ZERO = Decimal("0.00")


# Informational prices; limits sized so the demo company fits its Business plan with room to try.
DEMO_PACKAGES = [
    {
        "name": "Starter",
        "description": "One shop, the till and the basics.",
        "price": Decimal("19.00"),
        "max_stores": 1,
        "max_warehouses": 0,
        "max_users": 3,
        "max_products": 500,
        "max_sales_per_month": 2000,
        "features": ["exports"],
        "requests_per_minute": 600,
    },
    {
        "name": "Business",
        "description": "A few shops and a warehouse, with loyalty and analytics.",
        "price": Decimal("79.00"),
        "max_stores": 5,
        "max_warehouses": 2,
        "max_users": 25,
        "max_products": 5000,
        "max_sales_per_month": 20000,
        "features": ["analytics", "exports", "loyalty", "multiStore"],
        "requests_per_minute": 6000,
    },
    {
        "name": "Enterprise",
        "description": "No limits.",
        "price": Decimal("299.00"),
        "features": ["analytics", "exports", "loyalty", "multiStore"],
    },
]


def _dated(moment: datetime, *, tick: bool):
    """Runs the block as if it were `moment` (time-machine, a development dependency; `tick`:
    the clock runs on from there). Where it is not installed (production images) every demo row
    is dated now, which is consistent too."""
    try:
        import time_machine
    except ImportError:
        return nullcontext()
    return time_machine.travel(moment, tick=tick)


def _set_up_moment() -> datetime:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=SET_UP_DAYS_AGO) + timedelta(hours=SET_UP_HOUR)


def _demo_sale(rng, store, shelf, customers, cashier, owner) -> None:
    """One checkout (priced by a quote first, to tender realistic cash); now and then voided at
    once, or partly returned."""
    items = [
        CartItem(product_id=p, variant_id=v, quantity=Decimal(rng.choice([1, 1, 1, 2, 3])))
        for p, v in rng.sample(shelf, rng.randint(1, 4))
    ]
    customer = rng.choice(customers) if customers and rng.random() < 0.3 else None
    cart = Checkout(store_id=store.pk, items=items, customer_id=customer and customer.pk)
    total = sale_quote(actor=cashier, checkout=cart).total  # priced, nothing tendered yet
    owes = customer and Customer.objects.filter(pk=customer.pk).values_list("balance", flat=True)[0]
    if customer is not None and rng.random() < 0.15 and customer.credit_limit - owes >= total:
        tenders = []  # on account
    elif rng.random() < 0.55:
        tenders = [Tender("CASH", Decimal(math.ceil(total / 5) * 5))]  # the next note
    else:
        tenders = [Tender(rng.choice(["CARD", "CARD", "MOBILE"]), total)]
    sale = sale_checkout(actor=cashier, checkout=replace(cart, payments=tenders)).sale
    luck = rng.random()
    if luck < 0.03:
        sale_void(actor=owner, sale_id=sale.pk, reason="Rung up by mistake (demo)")
    elif luck < 0.08:
        first = sale.items.order_by("position").first()
        sale_return(
            actor=owner,
            sale_id=sale.pk,
            items=[ReturnLine(first.pk, Decimal("1"))],
            refund_method="CASH" if not tenders or tenders[0].method == "CASH" else "CARD",
            reason="Changed their mind (demo)",
        )


class Command(BaseCommand):
    help = (
        "Creates (idempotently) the demo company, its stores and staff, and prints the logins. "
        "Whatever was edited since (a renamed owner, a deleted store) is left as it is: each step "
        "that cannot be done is reported and skipped, so `make run` always starts."
    )

    def handle(self, *args, **options):
        self.problems: list[str] = []
        with _dated(_set_up_moment(), tick=True):  # the set-up, before the first sale
            self._step(
                "super admin",
                lambda: super_admin_ensure(email=SUPER_ADMIN[0], password=SUPER_ADMIN[1]),
            )
            plans = self._step("packages", self._packages) or {}
            tenant = self._step("company", lambda: self._company(plans.get("Business")))
            if tenant is not None:
                owner = self._owner(tenant)
                with tenant_context(tenant):
                    stores = self._step("stores", lambda: self._stores(owner)) or {}
                    self._step("catalogue", lambda: self._catalogue(owner))
                    self._step("stock", lambda: self._stock(owner, stores))
                    self._step("transfers", lambda: self._transfers(owner, stores))
                    self._step("customers", lambda: self._customers(tenant, owner))
                    for staff in DEMO_STAFF:
                        self._step(
                            f"staff {staff[1]}",
                            lambda staff=staff: self._staff(tenant, owner, stores, staff),
                        )
                    # ordered and received before the first sale, so that the sales' costs
                    # are the ones their dates say
                    self._step("purchasing", lambda: self._purchasing(owner, stores))
        if tenant is not None:
            with tenant_context(tenant):
                self._step("sales", lambda: self._sales(owner, stores))
                self._step("expenses", lambda: self._expenses(owner, stores))
        self._report(tenant)

    def _step(self, name: str, action):
        """One step in its own transaction; a failure is reported, never fatal."""
        try:
            with transaction.atomic():
                return action()
        except Exception as exc:
            self.problems.append(f"{name}: {exc}")
            return None

    @staticmethod
    def _packages() -> dict[str, Package]:
        """The platform's three plans (kept as they are when they exist: an operator may have
        edited them)."""
        super_admin = User.objects.get(email=SUPER_ADMIN[0])
        plans = {}
        for fields in DEMO_PACKAGES:
            plans[fields["name"]] = Package.objects.filter(
                name=fields["name"]
            ).first() or package_create(actor=super_admin, **fields)
        return plans

    def _company(self, plan: Package | None) -> Tenant:
        tenant = Tenant.objects.filter(slug=DEMO_COMPANY["slug"]).first()
        if tenant is None:
            tenant = tenant_create(
                name=DEMO_COMPANY["name"],
                slug=DEMO_COMPANY["slug"],
                owner_email=OWNER[0],
                owner_password=OWNER[1],
                owner_name="Demo Owner",
                package_id=plan.pk if plan else None,
            ).tenant
        return tenant

    @staticmethod
    def _owner(tenant: Tenant) -> User | None:
        """The demo owner, or — if their email was changed — the company's first admin."""
        admins = User.objects.filter(tenant=tenant, role="ADMIN", deleted_at__isnull=True)
        return admins.filter(email=OWNER[0]).first() or admins.order_by("created_at").first()

    @staticmethod
    def _stores(owner) -> dict[str, Store]:
        stores = {store.code: store for store in Store.objects.alive()}
        for spec in DEMO_STORES:
            if spec["code"] not in stores:
                stores[spec["code"]] = store_create(actor=owner, **spec)
        return stores

    @staticmethod
    def _catalogue(owner) -> None:
        if not Product.objects.alive().exists():
            products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)

    @staticmethod
    def _stock(owner, stores) -> None:
        """Every tracked item in every location, some below their threshold (seeded once)."""
        if StockLevel.objects.exists() or not stores:
            return
        rng = random.Random(2026)  # the same demo stock on every machine
        items = []
        for product in Product.objects.alive().filter(track_stock=True).order_by("sku"):
            variants = list(product.variants.filter(deleted_at__isnull=True).order_by("sku"))
            items += [(product.pk, v.pk) for v in variants] or [(product.pk, None)]
        for store in sorted(stores.values(), key=lambda store: store.code):
            warehouse = store.kind == StoreKind.WAREHOUSE
            lines = [
                AdjustItem(
                    product_id,
                    variant_id,
                    Decimal(
                        rng.randint(1, 3)
                        if rng.random() < 0.1
                        else rng.randint(6, 120 if warehouse else 40)
                    ),
                )
                for product_id, variant_id in items
            ]
            for start in range(0, len(lines), MAX_ITEMS):
                stock_adjust(
                    actor=owner,
                    store_id=store.pk,
                    reason="FOUND",
                    note="Opening stock (demo)",
                    items=lines[start : start + MAX_ITEMS],
                )

    @staticmethod
    def _transfers(owner, stores) -> None:
        """One transfer in each state, from the warehouse to the shops."""
        if Transfer.objects.exists() or not {"WH1", "DT", "MALL"} <= stores.keys():
            return
        products = list(
            Product.objects.alive()
            .filter(track_stock=True, variants__isnull=True)
            .order_by("sku")[:8]
        )
        steps = {
            "PENDING": [],
            "IN_TRANSIT": [transfer_ship],
            "COMPLETED": [transfer_ship, transfer_receive],
            "CANCELLED": [transfer_cancel],
        }
        for n, (state, actions) in enumerate(steps.items()):
            transfer = transfer_create(
                actor=owner,
                from_store_id=stores["WH1"].pk,
                to_store_id=stores["DT" if n % 2 == 0 else "MALL"].pk,
                note=f"Demo transfer ({state.lower().replace('_', ' ')})",
                items=[
                    TransferLine(p.pk, None, Decimal(2 + n)) for p in products[2 * n : 2 * n + 2]
                ],
            )
            for action in actions:
                action(actor=owner, transfer_id=transfer.pk)

    @staticmethod
    def _customers(tenant, owner) -> None:
        """Three groups and 60 customers, some owing money or holding store credit, some with
        points; the loyalty program switched on (seeded once)."""
        if Customer.objects.exists() or CustomerGroup.objects.exists():
            return
        tenant_settings_update(
            actor=owner,
            tenant=tenant,
            country=DEMO_COUNTRY,  # before the first customer: their phone numbers are read in it
            loyalty_enabled=True,
            # the receipt template (GET/PUT /receipts/template)
            receipt_footer="Thank you for shopping at Demo Retail!",
            receipt_fields={**FIELD_DEFAULTS, "return_policy": True},
            receipt_return_policy="Returns and exchanges within 30 days with this receipt.",
        )
        groups = [
            customer_group_create(actor=owner, name=name, discount_percent=discount)
            for name, discount in DEMO_GROUPS
        ]
        rng = random.Random(2026)
        for n, (first, last) in enumerate(
            (first, last) for last in LAST_NAMES for first in FIRST_NAMES
        ):
            customer = customer_create(
                actor=owner,
                name=f"{first} {last}",
                email=f"{first}.{last}@example.com".lower() if n % 3 else "",
                phone=f"+351 91{n % 10} {100 + n:03d} {200 + n:03d}" if n % 4 else "",
                group_id=groups[n % 3].pk if n % 5 == 0 else None,
                credit_limit=Decimal(rng.choice([0, 50, 100, 250])),
            )
            if n % 6 == 1:
                customer_balance_adjust(
                    actor=owner,
                    customer_id=customer.pk,
                    amount=Decimal(rng.randint(500, 9000)) / 100,
                    reason="Opening balance (demo)",
                )
            elif n % 6 == 4:
                customer_balance_adjust(
                    actor=owner,
                    customer_id=customer.pk,
                    amount=-Decimal(rng.randint(200, 3000)) / 100,
                    reason="Store credit carried over (demo)",
                )
            if n % 2 == 0:
                loyalty_adjust(
                    actor=owner,
                    customer_id=customer.pk,
                    points=rng.randint(20, 900),
                    reason="Points carried over (demo)",
                )

    @staticmethod
    def _sales(owner, stores) -> None:
        """Two weeks of sales in the two shops, at opening hours, by their cashiers: cash (with
        change) and card, some for customers (a few on account), a few returned the next day
        and a few voided at once (seeded once). Dated in the past with time-machine when it is
        installed (development), else today."""
        if Sale.objects.exists() or not {"DT", "MALL"} <= stores.keys():
            return
        rng = random.Random(2026)
        customers = list(Customer.objects.alive().order_by("code")[:30])
        cashiers = {
            code: User.objects.filter(email=email).first() or owner
            for code, email in (("DT", DEMO_STAFF[1][1]), ("MALL", DEMO_STAFF[2][1]))
        }
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        today_margin = timedelta(minutes=35)  # a shift closes 30 minutes after its last sale
        for days_ago in range(DEMO_SALE_DAYS, -1, -1):
            for code in ("DT", "MALL"):
                store = stores[code]
                shelf = list(
                    StockLevel.objects.filter(
                        store=store,
                        quantity__gte=5,
                        product__status="ACTIVE",
                        product__deleted_at__isnull=True,
                    )
                    .exclude(variant__deleted_at__isnull=False)
                    .order_by("product_id", "variant_id")
                    .values_list("product_id", "variant_id")
                )
                day = today - timedelta(days=days_ago)
                moments = sorted(
                    day + timedelta(hours=rng.randint(9, 19), minutes=rng.randint(0, 59))
                    for _ in range(rng.randint(3, 6))
                )
                if days_ago == 0:  # today's sales in the part of the day gone by, whatever the hour
                    room = (timezone.now() - day - today_margin).total_seconds()
                    moments = (
                        sorted(day + timedelta(seconds=rng.uniform(0, room)) for _ in moments)
                        if room > 0
                        else []
                    )
                moments = [moment for moment in moments if moment <= timezone.now()]
                cashier = cashiers[code]
                if not moments:
                    if days_ago == 0 and code == "DT":  # before opening time: open now anyway
                        shift_open(actor=cashier, store_id=store.pk, opening_float=FLOAT)
                    continue

                def at(moment):
                    return _dated(moment, tick=False)

                with at(moments[0] - timedelta(minutes=5)):
                    shift = shift_open(actor=cashier, store_id=store.pk, opening_float=FLOAT)
                for moment in moments:
                    with at(moment):
                        _demo_sale(rng, store, shelf, customers, cashier, owner)
                if days_ago == 0 and code == "DT":
                    continue  # cashier1's shift of today stays open
                with at(moments[-1] + timedelta(minutes=30)):
                    expected = shift_figures(shift)["expected_cash"]
                    counted = expected + rng.choice([ZERO, ZERO, ZERO, Decimal("-0.50")])
                    shift_close(actor=cashier, shift_id=shift.pk, counted_cash=counted)

    @staticmethod
    def _expenses(owner, stores) -> None:
        """Three months of expenses: monthly rent and utilities per shop, wages, and a few
        supplies and marketing costs (seeded once)."""
        if ExpenseCategory.objects.exists():
            return
        rng = random.Random(2026)
        categories = {
            name: expense_category_create(actor=owner, name=name)
            for name in ("Rent", "Utilities", "Wages", "Supplies", "Marketing")
        }
        today = timezone.localdate()
        first = today.replace(day=1)
        for months_ago in range(3, -1, -1):
            index = first.year * 12 + first.month - 1 - months_ago
            month = first.replace(year=index // 12, month=index % 12 + 1)
            for code in ("DT", "MALL"):
                store = stores.get(code)
                if store is None:
                    continue
                for name, amount, day in (
                    ("Rent", Decimal("1800.00") if code == "DT" else Decimal("2400.00"), 1),
                    ("Utilities", Decimal(rng.randint(18000, 32000)) / 100, 10),
                    ("Wages", Decimal("3200.00"), 28),
                    ("Supplies", Decimal(rng.randint(2000, 15000)) / 100, rng.randint(2, 27)),
                ):
                    day_of = month.replace(day=day)
                    if day_of > today:
                        continue
                    expense_create(
                        actor=owner,
                        category_id=categories[name].pk,
                        store_id=store.pk,
                        amount=amount,
                        date=day_of,
                        description=f"{name} {code} {month:%b %Y}",
                        payment_method="BANK_TRANSFER" if name != "Supplies" else "CARD",
                    )
            if month.replace(day=15) <= today:
                expense_create(
                    actor=owner,
                    category_id=categories["Marketing"].pk,
                    amount=Decimal("450.00"),
                    date=month.replace(day=15),
                    description=f"Leaflets {month:%b %Y}",
                    payment_method="CARD",
                )

    @staticmethod
    def _purchasing(owner, stores) -> None:
        """Three suppliers and an order in every state: received and paid, received and partly
        paid, partly received, just ordered, cancelled, closed short (seeded once)."""
        if Supplier.objects.exists() or "WH1" not in stores:
            return
        rng = random.Random(2026)
        suppliers = [
            supplier_create(
                actor=owner,
                name=name,
                contact_name=contact,
                email=f"{mailbox}.example",
                phone=phone,
                payment_terms_days=terms,
            )
            for name, contact, mailbox, phone, terms in DEMO_SUPPLIERS
        ]
        plain = list(
            Product.objects.alive()
            .filter(status="ACTIVE", track_stock=True, variants__isnull=True)
            .order_by("sku")
            .values_list("pk", "cost_price")[:40]
        )
        warehouse = stores["WH1"]

        def purchase(supplier, count):
            picked = rng.sample(plain, count)
            return purchase_create(
                actor=owner,
                supplier_id=supplier.pk,
                store_id=warehouse.pk,
                items=[
                    PurchaseLine(
                        product_id=pk,
                        variant_id=None,
                        quantity=Decimal(rng.randint(6, 48)),
                        unit_cost=(cost * Decimal("1.05")).quantize(Decimal("0.0001")),
                    )
                    for pk, cost in picked
                ],
            )

        def receive(order, share=1):
            lines = list(order.items.order_by("position"))
            taken = lines if share == 1 else lines[: max(1, len(lines) // 2)]
            purchase_receive(
                actor=owner,
                order_id=order.pk,
                items=[ReceiveLine(item_id=line.pk, quantity=line.quantity) for line in taken],
            )

        paid_in_full = purchase(suppliers[0], 6)
        receive(paid_in_full)
        paid_in_full.refresh_from_db()
        purchase_pay(
            actor=owner,
            order_id=paid_in_full.pk,
            amount=paid_in_full.total,
            method="BANK_TRANSFER",
            reference="TRF-1001",
        )
        owing = purchase(suppliers[1], 5)
        receive(owing)
        purchase_pay(actor=owner, order_id=owing.pk, amount=Decimal("20.00"), method="CASH")
        receive(purchase(suppliers[0], 6), share=0.5)  # partly received
        purchase(suppliers[1], 4)  # just ordered
        purchase_cancel(actor=owner, order_id=purchase(suppliers[2], 3).pk)  # cancelled
        short = purchase(suppliers[0], 4)
        receive(short, share=0.5)
        purchase_cancel(actor=owner, order_id=short.pk)  # closed short

    @staticmethod
    def _staff(tenant, owner, stores, staff) -> None:
        role, email, password, name, codes = staff
        if User.objects.filter(email=email).exists():
            return
        staff_create(
            actor=owner,
            tenant=tenant,
            email=email,
            password=password,
            name=name,
            role=role,
            store_ids=[stores[code].pk for code in codes if code in stores],
        )

    def _report(self, tenant) -> None:
        self.stdout.write(f"Demo company: {DEMO_COMPANY['name']} (slug '{DEMO_COMPANY['slug']}')")
        self.stdout.write(
            "Stores: " + ", ".join(f"{s['code']} {s['name']} ({s['kind']})" for s in DEMO_STORES)
        )
        if tenant is not None:
            plan = Tenant.objects.filter(pk=tenant.pk).values_list("package__name", flat=True)[0]
            self.stdout.write(
                f"Plan: {plan or 'none (no limits)'}; packages: "
                + ", ".join(Package.objects.values_list("name", flat=True))
            )
            with tenant_context(tenant):
                self.stdout.write(f"Catalogue: {Product.objects.alive().count()} products")
                levels, low = StockLevel.objects.count(), stock_totals()["low_stock_count"]
                transfers = Transfer.objects.count()
                self.stdout.write(
                    f"Stock: {levels} levels ({low} at or below their threshold), "
                    f"{transfers} transfers"
                )
                sales = Sale.objects.all()
                self.stdout.write(
                    f"Sales: {sales.count()} over the last {DEMO_SALE_DAYS} days "
                    f"({sales.filter(status='VOIDED').count()} voided, "
                    f"{SaleReturn.objects.count()} returns)"
                )
                self.stdout.write(
                    f"Shifts: {ZReport.objects.count()} closed with a Z report, "
                    f"{Shift.objects.filter(status='OPEN').count()} open"
                )
                orders = PurchaseOrder.objects.all()
                self.stdout.write(
                    f"Purchasing: {Supplier.objects.alive().count()} suppliers, "
                    f"{orders.count()} purchase orders"
                )
                expenses = Expense.objects.alive()
                self.stdout.write(
                    f"Expenses: {expenses.count()} in "
                    f"{ExpenseCategory.objects.alive().count()} categories"
                )
                customers = Customer.objects.alive()
                self.stdout.write(
                    f"Customers: {customers.count()} in {CustomerGroup.objects.alive().count()} "
                    f"groups ({customers.filter(balance__gt=0).count()} owing money)"
                )
        self.stdout.write("Logins (POST /api/auth/login):")
        logins = [("SUPER_ADMIN", *SUPER_ADMIN, ""), ("ADMIN", *OWNER, "all stores")]
        logins += [(role, email, pw, ", ".join(codes)) for role, email, pw, _, codes in DEMO_STAFF]
        present = set(
            User.objects.filter(email__in=[row[1] for row in logins]).values_list(
                "email", flat=True
            )
        )
        for role, email, password, where in logins:
            note = "" if email in present else "  (no longer exists: edited since seeding)"
            self.stdout.write(f"  {role:<12} {email:<28} {password:<18} {where}{note}")
        for problem in self.problems:
            self.stderr.write(f"Demo data: skipped {problem}")
