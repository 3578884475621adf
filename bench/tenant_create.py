"""Time to create a tenant (company + owner) through the API: median of 10.

Baseline, measured in the same run: the same creation with schema cloning switched off, i.e.
running every tenant migration for the new schema. Target: API creation median < 1 s.

    make bench            # or: .venv/bin/python bench/tenant_create.py [--runs 10]

Uses the development database (DATABASE_URL or the embedded one) and removes what it creates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mipos.settings.dev")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from apps.audit.models import AuditLog  # noqa: E402
from apps.audit.services import audit_maintenance  # noqa: E402
from apps.tenants.models import Tenant  # noqa: E402
from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services import super_admin_ensure  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402

PASSWORD = "Bench-pass-2026!"


def new_slug() -> str:
    return f"bench-{uuid.uuid4().hex[:10]}"


def create_through_api(client: Client, auth: str) -> float:
    slug = new_slug()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/super-admin/tenants",
        {
            "name": f"Bench {slug}",
            "slug": slug,
            "ownerEmail": f"owner@{slug}.bench",
            "ownerPassword": PASSWORD,
            "ownerName": "Bench Owner",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"tenant creation failed: {response.status_code} {response.content[:300]}")
    return elapsed


def create_by_migrating() -> float:
    slug = new_slug()
    started = time.perf_counter()
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        tenant_create(
            name=f"Bench {slug}",
            slug=slug,
            owner_email=f"owner@{slug}.bench",
            owner_password=PASSWORD,
            owner_name="Bench Owner",
        )
    return time.perf_counter() - started


def cleanup() -> None:
    connection.set_schema_to_public()
    tenants = list(Tenant.objects.filter(slug__startswith="bench-"))
    with audit_maintenance():
        AuditLog.objects.filter(tenant__in=tenants).delete()
        AuditLog.objects.filter(actor__email="bench-root@mipos.local").delete()
        User.objects.filter(tenant__in=tenants).delete()
        for tenant in tenants:
            tenant.delete(force_drop=True)
        User.objects.filter(email="bench-root@mipos.local").delete()


def describe(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:7.1f} ms   "
        f"min {min(samples) * 1000:7.1f} ms   max {max(samples) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    cleanup()
    root = super_admin_ensure(email="bench-root@mipos.local", password=PASSWORD)
    client = Client()
    try:
        create_through_api(client, f"Bearer {token_pair_issue(user=root).access}")  # warm-up
        api_samples = [
            create_through_api(client, f"Bearer {token_pair_issue(user=root).access}")
            for _ in range(args.runs)
        ]
        baseline = [create_by_migrating() for _ in range(max(3, args.runs // 2))]
    finally:
        cleanup()

    api_median, base_median = statistics.median(api_samples), statistics.median(baseline)
    print(f"Tenant creation, {args.runs} runs (PostgreSQL: {connection.settings_dict['HOST']})")
    print(f"  through the API (template script) {describe(api_samples)}")
    print(f"  baseline: migrate a new schema    {describe(baseline)}")
    print(f"  ratio baseline / API              {base_median / api_median:7.2f}x")
    verdict = "MET" if api_median < 1.0 else "MISSED"
    print(f"  target: API median < 1000 ms      {verdict}")


if __name__ == "__main__":
    main()
