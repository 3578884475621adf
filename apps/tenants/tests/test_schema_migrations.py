"""`migrate` walks only the company schemas behind the template, and django-tenants' parallel
executors work with this project's connections (apps/tenants/schema_migrations.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection

from apps.audit.models import AuditLog
from apps.audit.services import audit_maintenance
from apps.tenants.models import Tenant
from apps.tenants.schema_migrations import schemas_behind_template
from apps.tenants.schema_template import template_migrations_digest
from apps.tenants.services import tenant_create
from apps.users.models import User

ROOT = Path(__file__).resolve().parents[3]
# admin is a shared app: in a company's schema its migrations are recorded, never applied, so a
# company "behind" by one of them is brought up to date by recording it again
LAST_ADMIN_MIGRATION = ("admin", "0003_logentry_add_action_flag_choices")


def _forget(schema: str, migration: tuple[str, str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', migration
        )


def _recorded(schema: str, migration: tuple[str, str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            migration,
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_only_schemas_missing_a_template_migration_are_behind(world_a, world_b):
    assert _recorded(settings.TENANT_BASE_SCHEMA, LAST_ADMIN_MIGRATION) == 1
    assert schemas_behind_template() == []
    _forget(world_b.tenant.schema_name, LAST_ADMIN_MIGRATION)
    assert schemas_behind_template() == [world_b.tenant.schema_name]
    # a migration the template does not have (an old one, since removed) does not count
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{world_a.tenant.schema_name}".django_migrations (app, name, applied) '
            "VALUES ('catalog', '0000_removed_long_ago', now())"
        )
    assert schemas_behind_template() == [world_b.tenant.schema_name]
    # a company whose schema is missing is listed (django-tenants then says so)
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{world_a.tenant.schema_name}" RENAME TO elsewhere')
    assert schemas_behind_template() == sorted(
        [world_a.tenant.schema_name, world_b.tenant.schema_name]
    )


# --- the command, in processes of its own ---------------------------------------------------------


@pytest.fixture
def companies(worlds, django_db_blocker):
    """Three committed companies (a subprocess sees only committed rows), removed at the end."""
    with django_db_blocker.unblock():
        suffix = uuid.uuid4().hex[:6]
        created = [
            tenant_create(
                name=f"Migrating {n}",
                slug=f"migrating-{n}-{suffix}",
                owner_email=f"owner{n}@migrating-{suffix}.test",
                owner_password="Migrate-pass-2026!",
                owner_name="Owner",
            ).tenant
            for n in range(3)
        ]
        url = urlparse(os.environ["DATABASE_URL"])
        database_url = urlunparse(url._replace(path=f"/{connection.settings_dict['NAME']}"))
    yield database_url, [tenant.schema_name for tenant in created]
    with django_db_blocker.unblock(), audit_maintenance():
        AuditLog.objects.filter(tenant__in=created).delete()
        User.objects.filter(tenant__in=created).delete()
        for tenant in created:
            tenant.delete(force_drop=True)


def _manage(database_url: str, *arguments: str) -> str:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mipos.settings.dev",
        "DATABASE_URL": database_url,
        "DB_POOL_MAX_SIZE": "4",  # as in development: a pool the multiprocessing fork inherits
        "PYTHONUNBUFFERED": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "executor", [["--executor", "multiprocessing"], ["--executor", "subprocess", "--parallel", "2"]]
)
def test_migrate_brings_only_the_schemas_behind_up_to_date(companies, django_db_blocker, executor):
    database_url, schemas = companies
    behind = schemas[:2]
    with django_db_blocker.unblock():
        for schema in behind:
            _forget(schema, LAST_ADMIN_MIGRATION)
        assert schemas_behind_template() == sorted(behind)
        Tenant.objects.filter(schema_name__in=behind).update(migrations_digest="stale")
    output = _manage(database_url, "migrate", "--noinput", *executor)
    assert "Company schemas behind the template: 2" in output
    for schema in behind:
        assert f":{schema}]" in output  # the executor's prefix: it walked them ...
    assert f":{schemas[2]}]" not in output  # ... and not the schema that was up to date
    with django_db_blocker.unblock():
        assert [_recorded(schema, LAST_ADMIN_MIGRATION) for schema in schemas] == [1, 1, 1]
        assert schemas_behind_template() == []
        # what the console's health reads: every company recorded at the template's state
        digest = template_migrations_digest(settings.TENANT_BASE_SCHEMA)
        recorded = Tenant.objects.filter(schema_name__in=schemas)
        assert sorted(recorded.values_list("migrations_digest", flat=True)) == [digest] * 3
    # nothing pending: no company schema is walked
    output = _manage(database_url, "migrate", "--noinput", *executor)
    assert "Company schemas behind the template: 0" in output
    assert not any(f":{schema}]" in output for schema in schemas)


@pytest.mark.slow
def test_migrate_schemas_multiprocessing_walks_every_schema_over_a_pool(companies):
    """django-tenants' own walk with the multiprocessing executor and a connection pool: it
    failed with "the last operation didn't produce records (command status: SET)"."""
    database_url, schemas = companies
    output = _manage(database_url, "migrate_schemas", "--noinput", "--executor", "multiprocessing")
    for schema in schemas:
        assert f"multiprocessing:{schema}]" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_migrate_all_schemas_records_every_company_as_migrated(companies, django_db_blocker):
    """`--all-schemas` walks every schema: each company is then recorded at the template's state
    (the console's health); `--shared` alone records none."""
    database_url, schemas = companies
    with django_db_blocker.unblock():
        Tenant.objects.filter(schema_name__in=schemas).update(migrations_digest="stale")
    _manage(database_url, "migrate", "--noinput", "--shared", "--all-schemas")
    with django_db_blocker.unblock():
        recorded = Tenant.objects.filter(schema_name__in=schemas)
        assert set(recorded.values_list("migrations_digest", flat=True)) == {"stale"}
    _manage(database_url, "migrate", "--noinput", "--all-schemas")
    with django_db_blocker.unblock():
        digest = template_migrations_digest(settings.TENANT_BASE_SCHEMA)
        assert set(recorded.values_list("migrations_digest", flat=True)) == {digest}
