"""A new company's schema is made from the template's DDL script (apps/tenants/schema_template.py):
it must be the template's schema, object for object, with the template's migrations recorded."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_exists

from apps.tenants import schema_template
from apps.tenants.models import Domain, Tenant
from apps.tenants.schema_template import (
    UnsupportedTemplateObject,
    schema_description,
    template_script,
)
from apps.tenants.services import tenant_create

pytestmark = pytest.mark.django_db

TEMPLATE = settings.TENANT_BASE_SCHEMA


def _create(slug: str) -> Tenant:
    return tenant_create(
        name=f"Copy {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.test",
        owner_password="Copy-pass-2026!",
        owner_name="Owner",
    ).tenant


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_a_new_company_schema_is_identical_to_the_template():
    tenant = _create("schema-copy")
    template, copy = schema_description(TEMPLATE), schema_description(tenant.schema_name)
    assert set(copy) == {
        "relations",
        "columns",
        "constraints",
        "indexes",
        "sequences",
        "functions",
        "triggers",
        "comments",
        "migrations",
    }
    for part in template:  # part by part, so that a difference names what differs
        assert copy[part] == template[part], part
    # what the comparison covered, so that an empty description cannot pass
    assert len(template["relations"]) > 250 and len(template["columns"]) > 700
    assert len(template["constraints"]) > 100 and len(template["indexes"]) > 200
    assert {name for name, *_ in template["sequences"]} >= {"django_migrations_id_seq"}
    assert {name for name, _ in template["functions"]} == {
        "customers_ledger_immutable",
        "inventory_stockmovement_immutable",
        "pos_frozen_row",
    }
    assert {(table, trigger) for table, trigger, *_ in template["triggers"]} >= {
        ("inventory_stockmovement", "inventory_stockmovement_immutable"),
        ("pos_shift", "pos_shift_frozen"),
    }
    assert len(copy["migrations"]) > 80
    # and the copy works as a company's schema: its ledger trigger refuses an UPDATE
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{tenant.schema_name}".catalog_product '
            f"UNION ALL SELECT nextval('\"{tenant.schema_name}\".django_migrations_id_seq') "
            f'- (SELECT max(id) FROM "{tenant.schema_name}".django_migrations)'
        )
        assert [row[0] for row in cursor.fetchall()] == [0, 1]


def test_a_migration_applied_to_the_template_reaches_the_next_company():
    """The script is keyed by the template's migrations: a migration applied to the template
    (a column and its row in django_migrations, rolled back with the test) makes a new one."""
    _create("before-migration")
    scripts_before = len(schema_template._scripts)
    _execute(
        f"ALTER TABLE {TEMPLATE}.catalog_brand ADD COLUMN motto varchar(40) DEFAULT 'x' NOT NULL;"
        f"INSERT INTO {TEMPLATE}.django_migrations (app, name, applied) "
        "VALUES ('catalog', '9999_brand_motto', now())"
    )
    tenant = _create("after-migration")
    assert len(schema_template._scripts) == scripts_before + 1
    assert schema_description(tenant.schema_name) == schema_description(TEMPLATE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_default, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'catalog_brand' AND column_name = 'motto'",
            [tenant.schema_name],
        )
        assert cursor.fetchone() == ("'x'::character varying", "NO")
        cursor.execute(
            f'SELECT name FROM "{tenant.schema_name}".django_migrations ORDER BY id DESC LIMIT 1'
        )
        assert cursor.fetchone() == ("9999_brand_motto",)


def test_an_object_the_script_cannot_reproduce_is_refused_when_the_script_is_made():
    _execute(f"CREATE VIEW {TEMPLATE}.brand_names AS SELECT name FROM {TEMPLATE}.catalog_brand")
    with pytest.raises(UnsupportedTemplateObject, match=r"relation brand_names \(relkind v\)"):
        template_script(TEMPLATE)


def test_a_failed_company_creation_leaves_no_schema():
    """The schema is made in the creation's transaction: a failure after it (here the company's
    domain name, already taken) takes the schema with it."""
    first = _create("first-company")
    Domain.objects.create(domain=f"second-company.{settings.TENANT_DOMAIN_SUFFIX}", tenant=first)
    tenants = Tenant.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        _create("second-company")
    assert Tenant.objects.count() == tenants
    assert not schema_exists("t_second_company")
