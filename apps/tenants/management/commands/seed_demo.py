from django.core.management.base import BaseCommand
from django.db import transaction

from apps.tenants.models import Tenant
from apps.tenants.services import tenant_create
from apps.users.models import User
from apps.users.services import super_admin_ensure

DEMO_COMPANY = {"name": "Demo Retail", "slug": "demo"}
DEMO_LOGINS = [
    # (role, email, password)
    ("SUPER_ADMIN", "root@mipos.local", "Root-pass-2026"),
    ("ADMIN", "admin@demo.mipos.local", "Admin-pass-2026"),
]


class Command(BaseCommand):
    help = "Creates (idempotently) the demo company and its logins, then prints them."

    def handle(self, *args, **options):
        with transaction.atomic():
            super_admin_ensure(email=DEMO_LOGINS[0][1], password=DEMO_LOGINS[0][2])
            if not Tenant.objects.filter(slug=DEMO_COMPANY["slug"]).exists():
                tenant_create(
                    name=DEMO_COMPANY["name"],
                    slug=DEMO_COMPANY["slug"],
                    owner_email=DEMO_LOGINS[1][1],
                    owner_password=DEMO_LOGINS[1][2],
                    owner_name="Demo Owner",
                )
        self.stdout.write(f"Demo company: {DEMO_COMPANY['name']} (slug '{DEMO_COMPANY['slug']}')")
        self.stdout.write("Logins (POST /api/auth/login):")
        for role, email, password in DEMO_LOGINS:
            exists = User.objects.filter(email=email).exists()
            self.stdout.write(
                f"  {role:<12} {email:<28} {password}" + ("" if exists else " (missing)")
            )
