from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.catalog.demo import demo_rows
from apps.catalog.imports import products_bulk_import
from apps.catalog.models import Product
from apps.stores.models import Store, StoreKind
from apps.stores.services import store_create
from apps.tenants.models import Tenant
from apps.tenants.services import tenant_create
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


class Command(BaseCommand):
    help = (
        "Creates (idempotently) the demo company, its stores and staff, and prints the logins. "
        "Whatever was edited since (a renamed owner, a deleted store) is left as it is: each step "
        "that cannot be done is reported and skipped, so `make run` always starts."
    )

    def handle(self, *args, **options):
        self.problems: list[str] = []
        self._step(
            "super admin", lambda: super_admin_ensure(email=SUPER_ADMIN[0], password=SUPER_ADMIN[1])
        )
        tenant = self._step("company", self._company)
        if tenant is not None:
            owner = self._owner(tenant)
            with tenant_context(tenant):
                stores = self._step("stores", lambda: self._stores(owner)) or {}
                self._step("catalogue", lambda: self._catalogue(owner))
                for staff in DEMO_STAFF:
                    self._step(
                        f"staff {staff[1]}",
                        lambda staff=staff: self._staff(tenant, owner, stores, staff),
                    )
        self._report(tenant)

    def _step(self, name: str, action):
        """One step in its own transaction; a failure is reported, never fatal."""
        try:
            with transaction.atomic():
                return action()
        except Exception as exc:
            self.problems.append(f"{name}: {exc}")
            return None

    def _company(self) -> Tenant:
        tenant = Tenant.objects.filter(slug=DEMO_COMPANY["slug"]).first()
        if tenant is None:
            tenant = tenant_create(
                name=DEMO_COMPANY["name"],
                slug=DEMO_COMPANY["slug"],
                owner_email=OWNER[0],
                owner_password=OWNER[1],
                owner_name="Demo Owner",
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
        if not Product.objects.exists():
            products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)

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
            with tenant_context(tenant):
                self.stdout.write(f"Catalogue: {Product.objects.alive().count()} products")
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
