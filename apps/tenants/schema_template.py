"""New company schemas from the template's DDL script: one round trip, the same cost at 10,000
companies as at 10.

django-tenants clones the template with a PL/pgSQL port of pg-clone-schema that, for every table,
queries `information_schema` (views over the whole catalog, so their cost grows with every schema
in the database) and then runs `migrate_schemas --fake` for the new schema. Measured on this
project: 1.3 s for the 2nd company of a burst, 20 s for the 90th.

Here the template's DDL is read from `pg_catalog` once per migration state and kept as a script
with a placeholder for the schema name; creating a company runs that script — CREATE SCHEMA,
tables with their columns and identity sequences, constraints, indexes, functions, triggers — and
copies the template's rows (its `django_migrations`: the new schema is migrated by construction),
all in the caller's transaction. The script is keyed by a digest of the template's
`django_migrations`, read on every creation, so a migration applied to the template (as
`migrate_schemas` does) regenerates it; the process keeps scripts by digest, which never change.

What the template holds is checked when the script is made: an object kind the script does not
reproduce (a view, a standalone sequence, a type …) fails there, loudly, instead of producing a
schema that lacks it. `schema_description` gives a schema's catalog description with its name
taken out; apps/tenants/tests/test_schema_template.py asserts a new company's equals the
template's."""

# ruff: noqa: S608  (the SQL here is built from catalog names, quoted; never from input)
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import quote_schema_name

# Stands for the new schema's quoted name in a script (no identifier can contain it).
SCHEMA_PLACEHOLDER = "\x00schema\x00"

_scripts: dict[str, str] = {}  # digest of the template's migrations -> script (immutable)
_scripts_lock = threading.Lock()


class UnsupportedTemplateObject(Exception):
    """The template holds something the script would not reproduce."""


def schema_create_from_template(schema_name: str) -> str:
    """Creates `schema_name` as a copy of the template schema (structure and rows), in the
    current transaction; returns the digest of the migration state it was made at."""
    template = settings.TENANT_BASE_SCHEMA
    digest, script = _script_for_current_migrations(template)
    with connection.cursor() as cursor:
        cursor.execute(script.replace(SCHEMA_PLACEHOLDER, quote_schema_name(schema_name)))
    return digest


def _script_for_current_migrations(template: str) -> tuple[str, str]:
    digest = template_migrations_digest(template)
    script = _scripts.get(digest)
    if script is None:
        with _scripts_lock:
            script = _scripts.get(digest)
            if script is None:
                script = template_script(template)
                _scripts[digest] = script
    return digest, script


def template_migrations_digest(template: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY id), '')) "
            f"FROM {quote_schema_name(template)}.django_migrations"
        )
        return cursor.fetchone()[0]


# --- the script ---------------------------------------------------------------------------------

_KINDS_REPRODUCED = {"r", "i", "S"}  # tables, their indexes, identity sequences

_TABLES = """
SELECT c.oid, c.relname, c.relpersistence, c.reloptions
FROM pg_class c
WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
ORDER BY c.relname"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
       s.seqrelid::regclass::text, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
       s.seqcycle
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_depend dep ON a.attidentity <> '' AND dep.refobjid = a.attrelid
     AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_class'::regclass
     AND dep.deptype = 'i' AND dep.objid IN (SELECT seqrelid FROM pg_sequence)
LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid
WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum"""

# PostgreSQL 18 records NOT NULL as constraints ('n'): the columns' NOT NULL makes them, with the
# same generated names.
_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = %(ns)s AND k.contype <> 'n'
ORDER BY k.contype = 'f', c.relname, k.conname"""

_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = %(ns)s
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY c.relname"""

_FUNCTIONS = """
SELECT pg_get_functiondef(p.oid) FROM pg_proc p
WHERE p.pronamespace = %(ns)s ORDER BY p.proname, p.oid"""

_TRIGGERS = """
SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal ORDER BY c.relname, t.tgname"""

_COMMENTS = """
SELECT c.relname, a.attname, d.description
FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
WHERE c.relnamespace = %(ns)s ORDER BY c.relname, d.objsubid"""

_OTHER_OBJECTS = """
SELECT 'relation ' || c.relname || ' (relkind ' || c.relkind::text || ')' FROM pg_class c
WHERE c.relnamespace = %(ns)s AND c.relkind NOT IN ('r', 'i', 'S')
UNION ALL
SELECT 'sequence ' || c.relname || ' not owned by an identity column' FROM pg_class c
WHERE c.relnamespace = %(ns)s AND c.relkind = 'S' AND NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
    AND d.deptype = 'i')
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
WHERE t.typnamespace = %(ns)s AND t.typrelid = 0 AND t.typelem = 0
UNION ALL
SELECT 'privileges on ' || c.relname FROM pg_class c
WHERE c.relnamespace = %(ns)s AND c.relacl IS NOT NULL
UNION ALL
SELECT 'constraint trigger ' || k.conname FROM pg_constraint k
WHERE k.connamespace = %(ns)s AND k.contype = 't'"""


def template_script(template: str) -> str:
    """The SQL that makes a copy of `template` (schema name: SCHEMA_PLACEHOLDER), read from the
    catalog with an empty search path so that every name in it comes out schema-qualified."""
    with _catalog_cursor() as cursor:
        return _script(cursor, template)


@contextmanager
def _catalog_cursor() -> Iterator[Any]:
    """A cursor with an empty search path, so that the catalog's functions print every name
    schema-qualified. The path is set for the transaction only (`set_config(…, true)` in an atomic
    block: one server session even behind a transaction-mode pooler) and put back at its end."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        search_path = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('search_path', '', true)")
        yield cursor  # an error rolls the savepoint back, and the path with it
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])


def _rows(cursor: Any, sql: str, ns: int) -> list[tuple]:
    cursor.execute(sql, {"ns": ns})
    return cursor.fetchall()


def _script(cursor: Any, template: str) -> str:
    cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [template])
    ns = cursor.fetchone()[0]
    unsupported = [row[0] for row in _rows(cursor, _OTHER_OBJECTS, ns)]
    if unsupported:
        raise UnsupportedTemplateObject(
            f"The template schema {template!r} holds what new schemas would not get: "
            + "; ".join(unsupported)
            + " (teach apps/tenants/schema_template.py to reproduce it)."
        )
    qualified = _qualified_prefix(template)

    def here(sql: str) -> str:  # the template's qualified names -> the new schema's
        return qualified.sub(lambda _: SCHEMA_PLACEHOLDER + ".", sql)

    def name(relname: str) -> str:
        return f"{SCHEMA_PLACEHOLDER}.{_quote(relname)}"

    statements = [f"CREATE SCHEMA {SCHEMA_PLACEHOLDER}"]
    tables = _rows(cursor, _TABLES, ns)
    columns: dict[int, list[str]] = {}
    identity_sequences: list[str] = []
    for (
        relid,
        column,
        type_,
        notnull,
        identity,
        generated,
        default,
        collation,
        sequence,
        start,
        increment,
        minimum,
        maximum,
        cache,
        cycle,
    ) in _rows(cursor, _COLUMNS, ns):
        parts = [_quote(column), type_]
        if collation:
            parts.append(f"COLLATE {_quote(collation)}")
        if identity:
            sequence_name = sequence.rsplit(".", 1)[-1]
            parts.append(
                "GENERATED {} AS IDENTITY (SEQUENCE NAME {} START WITH {} INCREMENT BY {} "
                "MINVALUE {} MAXVALUE {} CACHE {}{})".format(
                    "ALWAYS" if identity == "a" else "BY DEFAULT",
                    f"{SCHEMA_PLACEHOLDER}.{sequence_name}",
                    start,
                    increment,
                    minimum,
                    maximum,
                    cache,
                    " CYCLE" if cycle else "",
                )
            )
            identity_sequences.append(sequence_name)
        elif generated == "s":
            parts.append(f"GENERATED ALWAYS AS ({here(default)}) STORED")
        elif default is not None:
            parts.append(f"DEFAULT {here(default)}")
        if notnull:
            parts.append("NOT NULL")
        columns.setdefault(relid, []).append(" ".join(parts))
    for relid, relname, persistence, options in tables:
        unlogged = "UNLOGGED " if persistence == "u" else ""
        with_options = f" WITH ({', '.join(options)})" if options else ""
        statements.append(
            f"CREATE {unlogged}TABLE {name(relname)} (\n  "
            + ",\n  ".join(columns.get(relid, []))
            + f"\n){with_options}"
        )
    for relname, conname, _, definition in _rows(cursor, _CONSTRAINTS, ns):
        statements.append(
            f"ALTER TABLE {name(relname)} ADD CONSTRAINT {_quote(conname)} {here(definition)}"
        )
    statements += [here(definition) for (definition,) in _rows(cursor, _INDEXES, ns)]
    statements += [here(definition) for (definition,) in _rows(cursor, _FUNCTIONS, ns)]
    statements += [here(definition) for (definition,) in _rows(cursor, _TRIGGERS, ns)]
    for relname, column, description in _rows(cursor, _COMMENTS, ns):
        target = f"COLUMN {name(relname)}.{_quote(column)}" if column else f"TABLE {name(relname)}"
        statements.append(f"COMMENT ON {target} IS {_literal(cursor, description)}")
    # The rows: the template's (its django_migrations), read when the company is created.
    source = quote_schema_name(template)
    for _, relname, _, _ in tables:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {source}.{_quote(relname)})")
        if cursor.fetchone()[0]:
            statements.append(
                f"INSERT INTO {name(relname)} OVERRIDING SYSTEM VALUE "
                f"SELECT * FROM {source}.{_quote(relname)}"
            )
    for sequence_name in identity_sequences:
        statements.append(
            f"SELECT setval('{SCHEMA_PLACEHOLDER}.{sequence_name}', last_value, is_called) "
            f"FROM {source}.{sequence_name}"
        )
    return ";\n".join(statements) + ";"


def _qualified_prefix(schema_name: str) -> re.Pattern:
    """`schema.` as PostgreSQL prints it in a definition: quoted, or bare when it need not be."""
    quoted = re.escape('"' + schema_name.replace('"', '""') + '"')
    return re.compile(rf'(?:{quoted}|(?<![\w"$]){re.escape(schema_name)})\.')


def _quote(identifier: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", identifier):
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def _literal(cursor: Any, text: str) -> str:
    cursor.execute("SELECT quote_literal(%s)", [text])
    return cursor.fetchone()[0]


# --- checking a copy ----------------------------------------------------------------------------


def schema_description(schema_name: str) -> dict[str, Any]:
    """What a schema holds, as comparable data with its own name taken out: tables, columns,
    constraints, indexes, sequences, functions, triggers, comments and its django_migrations."""
    with _catalog_cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema_name])
        ns = cursor.fetchone()[0]
        own = _qualified_prefix(schema_name)

        def described(sql: str) -> list[tuple]:
            return [
                tuple(own.sub("<schema>.", v) if isinstance(v, str) else v for v in row)
                for row in _rows(cursor, sql, ns)
            ]

        return {
            "relations": described(
                "SELECT relname, relkind, relpersistence, reloptions, relacl::text, "
                "relhasindex, relhastriggers, relchecks FROM pg_class "
                "WHERE relnamespace = %(ns)s ORDER BY relname"
            ),
            "columns": described(
                "SELECT c.relname, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY "
                "a.attnum), format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), "
                "a.attcollation FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE c.relnamespace = %(ns)s AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY 1, 3"
            ),
            "constraints": described(
                "SELECT c.relname, k.conname, k.contype, k.condeferrable, k.condeferred, "
                "k.convalidated, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = %(ns)s "
                "ORDER BY 1, 2"
            ),
            "indexes": described(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, "
                "i.indisprimary, i.indisvalid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = %(ns)s "
                "ORDER BY 1"
            ),
            "sequences": described(
                "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, "
                "s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, "
                "pg_sequence_last_value(c.oid), t.relname, a.attname "
                "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
                "LEFT JOIN pg_depend d ON d.objid = c.oid "
                "AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
                "LEFT JOIN pg_class t ON t.oid = d.refobjid "
                "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid "
                "AND a.attnum = d.refobjsubid "
                "WHERE c.relnamespace = %(ns)s ORDER BY 1"
            ),
            "functions": described(
                "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                "WHERE p.pronamespace = %(ns)s ORDER BY 1, 2"
            ),
            "triggers": described(
                "SELECT c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) "
                "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal ORDER BY 1, 2"
            ),
            "comments": described(
                "SELECT c.relname, d.objsubid, d.description FROM pg_description d "
                "JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass "
                "WHERE c.relnamespace = %(ns)s ORDER BY 1, 2"
            ),
            "migrations": _migrations(cursor, schema_name),
        }


def _migrations(cursor: Any, schema_name: str) -> list[tuple]:
    cursor.execute(
        f"SELECT id, app, name, applied FROM {quote_schema_name(schema_name)}.django_migrations "
        "ORDER BY id"
    )
    return cursor.fetchall()
