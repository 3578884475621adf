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
    help = "Creates (idempotently) the demo company, its stores and staff, and prints the logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            super_admin_ensure(email=SUPER_ADMIN[0], password=SUPER_ADMIN[1])
            tenant = Tenant.objects.filter(slug=DEMO_COMPANY["slug"]).first()
            if tenant is None:
                tenant = tenant_create(
                    name=DEMO_COMPANY["name"],
                    slug=DEMO_COMPANY["slug"],
                    owner_email=OWNER[0],
                    owner_password=OWNER[1],
                    owner_name="Demo Owner",
                ).tenant
            owner = User.objects.get(email=OWNER[0])
            with tenant_context(tenant):
                stores = {store.code: store for store in Store.objects.alive()}
                for spec in DEMO_STORES:
                    if spec["code"] not in stores:
                        stores[spec["code"]] = store_create(actor=owner, **spec)
                if not Product.objects.exists():
                    products_bulk_import(actor=owner, rows=demo_rows(), create_missing=True)
                for role, email, password, name, codes in DEMO_STAFF:
                    if not User.objects.filter(email=email).exists():
                        staff_create(
                            actor=owner,
                            tenant=tenant,
                            email=email,
                            password=password,
                            name=name,
                            role=role,
                            store_ids=[stores[code].pk for code in codes],
                        )
        self.stdout.write(f"Demo company: {DEMO_COMPANY['name']} (slug '{DEMO_COMPANY['slug']}')")
        self.stdout.write(
            "Stores: " + ", ".join(f"{s['code']} {s['name']} ({s['kind']})" for s in DEMO_STORES)
        )
        with tenant_context(tenant):
            self.stdout.write(f"Catalogue: {Product.objects.alive().count()} products")
        self.stdout.write("Logins (POST /api/auth/login):")
        logins = [("SUPER_ADMIN", *SUPER_ADMIN, ""), ("ADMIN", *OWNER, "all stores")]
        logins += [(role, email, pw, ", ".join(codes)) for role, email, pw, _, codes in DEMO_STAFF]
        for role, email, password, where in logins:
            self.stdout.write(f"  {role:<12} {email:<28} {password:<18} {where}")
