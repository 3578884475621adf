"""Database helpers shared by the services: the one way a service changes an existing row.

`row_update` is "lock, snapshot, apply typed changes, save changed fields, audit, publish" in one
transaction. The row is read fresh under `SELECT … FOR UPDATE` (never the caller's copy, which may
be stale: a cached request user, a row read before another worker's change), only the fields
whose value differs are written (`UPDATE … SET` of those columns), and a write that changes
nothing writes nothing: no UPDATE, no audit row, no event."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models.functions import Lower
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django_tenants.utils import get_limit_set_calls, quote_schema_name

from apps.core.errors import Conflict, NotFound
from apps.core.hooks import Hook

# the audit trail's writer (apps.audit.services.audit_record), registered by the audit app: the
# audited-row helpers below write their audit row with it, in the caller's transaction
audit_writer = Hook("audit writer", provider="apps.audit")


class Unset:
    """Marks a keyword argument the caller did not send (PATCH: absent ≠ null)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset()
M = TypeVar("M", bound=models.Model)


def sent(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were actually sent (not UNSET), as a field → value dict."""
    return {field: value for field, value in values.items() if value is not UNSET}


def live_name_taken(queryset: models.QuerySet, name: str, *, exclude_pk: Any = None) -> bool:
    """Whether a live row of `queryset` (already `.alive()`) has `name`, case-insensitively —
    the service's check before the unique index on LOWER(name) (which stays the guard)."""
    rows = queryset.annotate(name_key=Lower("name")).filter(name_key=name.lower())
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.exists()


def insert_or_conflict(instance: models.Model, *, conflict: Conflict) -> None:
    """Inserts `instance`; a unique-index violation (a concurrent duplicate that slipped past the
    service's own check) becomes `conflict` (409) instead of a 500."""
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
    except IntegrityError:
        raise conflict from None


def row_create(
    instance: M,
    *,
    conflict: Conflict,
    actor: Any,
    action: str,
    entity_type: str,
    after: dict[str, Any],
    tenant: Any = None,
) -> M:
    """Inserts `instance` and writes its one audit row (`after`), in one transaction (or the
    caller's): a unique-index violation is `conflict` (409) and leaves neither."""
    with transaction.atomic():
        insert_or_conflict(instance, conflict=conflict)
        audit_writer(
            action=action,
            entity_type=entity_type,
            entity_id=instance.pk,
            actor=actor,
            tenant=tenant,
            after=after,
        )
    return instance


def fields_save(
    instance: models.Model, changes: Mapping[str, Any], *, conflict: Conflict | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Applies `changes` to `instance` and saves only the fields whose value differs (plus
    `updated_at` when the model has it). Returns (before, after) of those fields; both empty when
    nothing changed (and nothing was written)."""
    changed = {
        field: value for field, value in changes.items() if getattr(instance, field) != value
    }
    before = {field: getattr(instance, field) for field in changed}
    if not changed:
        return {}, {}
    for field, value in changed.items():
        setattr(instance, field, value)
    update_fields = list(changed)
    if any(field.name == "updated_at" for field in instance._meta.concrete_fields):
        update_fields.append("updated_at")
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        if conflict is None:
            raise
        raise conflict from None
    return before, dict(changed)


def rows_lock(queryset: models.QuerySet[M]) -> list[M]:
    """Locks the rows of `queryset` in primary-key order (one order for every writer, so two
    transactions locking overlapping sets wait instead of deadlocking)."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def row_lock(queryset: models.QuerySet[M], pk: Any) -> M:
    """The row `pk` of `queryset`, read fresh and locked until the transaction ends (404 when it
    is gone, e.g. deleted by a concurrent request)."""
    instance = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
    if instance is None:
        raise NotFound()
    return instance


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    """Soft-delete marks are audited as `deleted: true/false`, not as timestamps."""
    if "deleted_at" in values:
        values = dict(values)
        values["deleted"] = values.pop("deleted_at") is not None
    return values


def row_update(
    *,
    lock: Callable[[], M],
    changes: Mapping[str, Any],
    actor: Any,
    action: str,
    entity_type: str,
    conflict: Conflict | None = None,
    guard: Callable[[M, dict[str, Any]], None] | None = None,
    related: Callable[[M], tuple[dict[str, Any], dict[str, Any]]] | None = None,
    on_change: Callable[[M, dict[str, Any]], None] | None = None,
    tenant: Any = None,
    entity_id: Any = None,
) -> M:
    """Changes one row, in its own transaction (or the caller's):

    1. `lock()` reads the row fresh and locks it (and whatever else must be locked first, in one
       fixed order);
    2. `guard(row, pending)` checks business rules on the locked row against the fields that
       would change (raise to refuse: nothing is written);
    3. only the changed fields are saved (`conflict` turns a unique-index violation into a 409);
    4. `related(row)` applies changes held in other tables and returns their (before, after);
    5. if anything changed: one audit row with the changed fields, then `on_change(row, after)`
       (cache drops; events, which are sent on commit). Nothing changed: no audit row, no event.

    `tenant` (the audit row's company; the current schema's by default) may be a function of the
    locked row, for rows whose company is only known once read.
    """
    with transaction.atomic():
        instance = lock()
        pending = {
            field: value for field, value in changes.items() if getattr(instance, field) != value
        }
        if guard is not None:
            guard(instance, pending)
        before, after = fields_save(instance, pending, conflict=conflict)
        if related is not None:
            related_before, related_after = related(instance)
            before.update(related_before)
            after.update(related_after)
        if after:
            audit_writer(
                action=action,
                entity_type=entity_type,
                entity_id=entity_id or instance.pk,
                actor=actor,
                tenant=tenant(instance) if callable(tenant) else tenant,
                before=_audited(before),
                after=_audited(after),
            )
            if on_change is not None:
                on_change(instance, after)
    return instance


def row_soft_delete(
    *,
    lock: Callable[[], M],
    actor: Any,
    action: str,
    entity_type: str,
    guard: Callable[[M], None] | None = None,
    facts: Callable[[M], dict[str, Any]] | None = None,
    on_change: Callable[[M], None] | None = None,
    tenant: Any = None,
) -> M:
    """Marks one live row deleted: `row_update` of `deleted_at`, with `guard(row)` checked under
    the lock (e.g. refused while in use: a concurrent writer cannot slip in between) and
    `facts(row)` applying and reporting what else changed (moved children, …)."""
    return row_update(
        lock=lock,
        changes={"deleted_at": timezone.now()},
        actor=actor,
        action=action,
        entity_type=entity_type,
        guard=(lambda row, _pending: guard(row)) if guard is not None else None,
        related=(lambda row: ({}, facts(row))) if facts is not None else None,
        on_change=(lambda row, _after: on_change(row)) if on_change is not None else None,
        tenant=tenant,
    )


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {field: getattr(instance, field) for field in fields}


@contextmanager
def qualified_cursor() -> Iterator[Any]:
    """A cursor for statements that name every table with its schema (`qualified_table`).

    django-tenants issues `SET search_path` before the first query of each cursor after a schema
    switch — a round trip of its own. A statement that does not depend on the search path does
    not need it: for this cursor only, the SET is skipped (through django-tenants' own re-entry
    guard). The connection's search-path state is left as it was, so the next ordinary cursor
    still sets the path (tested in apps/core/tests/test_search_path.py)."""
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection (hot path)
    db.ensure_connection()
    guarding = db._setting_search_path
    db._setting_search_path = True
    try:
        cursor = db.cursor()
    finally:
        db._setting_search_path = guarding
    with cursor:
        yield cursor


def advisory_locks(keys: Iterable[str]) -> None:
    """Transaction-level advisory locks on `keys` (taken in sorted order, so two writers that
    want overlapping sets wait instead of deadlocking). Serialises "check, then insert" of
    values that must be unique across rows a unique index cannot see together (or that need a
    precise 409 rather than a constraint name)."""
    ordered = sorted(set(keys))
    if not ordered:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(%s::text[]) AS k ORDER BY k",
            [ordered],
        )


@dataclass(frozen=True)
class CompiledInsert:
    """The INSERT of new rows of one model, compiled and ready for `rows_insert`."""

    sql: str
    params: list[Any]
    rows: Sequence[models.Model]


def insert_compiled(rows: Sequence[models.Model]) -> CompiledInsert:
    """Compiles the INSERT of `rows` (unsaved instances of one model, primary keys set in
    Python) without sending it: what `save(force_insert=True)` and `bulk_create` would write,
    `auto_now` values included. Compiling early keeps that work out of a section that holds a
    contended lock."""
    if not rows:
        return CompiledInsert("", [], [])
    model = type(rows[0])
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    for obj in rows:
        if type(obj) is not model or obj.pk is None:
            raise ValueError("rows_insert: one model per batch, primary keys set")
        obj._prepare_related_fields_for_save(operation_name="rows_insert")
    query = InsertQuery(model)
    query.insert_values(fields, rows)
    statements, params = [], []
    for sql, values in query.get_compiler(connection=connection).as_sql():
        statements.append(sql)
        params.extend(values)
    return CompiledInsert(";\n".join(statements), params, rows)


def rows_insert(*batches: Sequence[models.Model] | CompiledInsert) -> None:
    """New rows of several models in ONE round trip: one INSERT per batch (a list of unsaved
    instances of one model, or one compiled earlier with `insert_compiled`), sent together in
    the order given (parents before the children that reference them) — without a round trip
    and the ORM's per-call work for each. No signals are sent (none are used in this project),
    and the rows are not read back (nothing is RETURNING)."""
    compiled = [
        batch if isinstance(batch, CompiledInsert) else insert_compiled(batch) for batch in batches
    ]
    compiled = [batch for batch in compiled if batch.sql]
    if not compiled:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            ";\n".join(batch.sql for batch in compiled),
            [value for batch in compiled for value in batch.params],
        )
    for batch in compiled:
        for obj in batch.rows:
            obj._state.adding = False
            obj._state.db = connection.alias


def document_number_next(*, series: str) -> int:
    """The next number of `series` in the current company. Call it inside the transaction that
    creates the document: the counter row stays locked until that commits, so concurrent
    documents get consecutive numbers and a rollback gives its number back."""
    table = qualified_table("core_documentcounter")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS c (series, last_value) VALUES (%s, 1)"  # noqa: S608
            " ON CONFLICT (series) DO UPDATE SET last_value = c.last_value + 1"
            " RETURNING last_value",
            [series],
        )
        return cursor.fetchone()[0]


class PreparedStatement:
    """A fixed read statement, prepared once per PostgreSQL session and executed by name — and
    the request's leading statement, which saves two round trips on every authenticated call:

    - it carries the `SET search_path` the request's next ordinary query would send (one
      multi-statement round trip; django-tenants is told the path is set). PostgreSQL runs both in
      one implicit transaction, so a failure leaves neither;
    - it is the persistent connection's health check: Django would send `SELECT 1` before the
      request's first query; here the statement itself is the check. When it fails on a
      connection that turns out to be dead (the server restarted, a proxy dropped it), the
      connection is closed and the read runs once more on a new one — what Django's check would
      have done, a round trip earlier. Inside a transaction Django's own check runs instead.

    The statement's tables are schema-qualified (`qualified_table`), so neither its text nor its
    plan depends on the tenant. A prepared statement lives as long as the session and survives a
    rolled-back transaction; the mark is kept on the driver's connection object, which dies with
    the session. (Sessions must not be reset behind Django's back — `DISCARD ALL` in a pool,
    PgBouncer in transaction mode — which django-tenants' search_path handling rules out already.)
    """

    def __init__(self, name: str, build: Callable[[], str], parameters: int) -> None:
        self.name = name
        self._build = build  # the SELECT text with $1…$n, built on first use (model metadata)
        self._sql: str | None = None
        self._execute = f"EXECUTE {name}({', '.join(['%s'] * parameters)})"

    def fetchone(self, params: Iterable[Any]) -> tuple | None:
        params = list(params)
        checking = _take_pending_health_check()
        try:
            return self._fetchone(params)
        except DatabaseError:
            if not checking or connection.is_usable():
                raise
        connection.close()  # dead between requests: read again on a new session
        return self._fetchone(params)

    def _fetchone(self, params: list[Any]) -> tuple | None:
        with qualified_cursor() as cursor:
            execute = self._prepared(cursor, connection.connection)
            paths = _pending_search_path()
            if paths is None:
                cursor.execute(execute, params)
            else:
                quoted = ",".join(quote_schema_name(path) for path in paths)
                cursor.execute(f"SET search_path = {quoted}; {execute}", params)
                connection.search_path_set_schemas = paths  # as django-tenants records its own
                cursor.nextset()
            return cursor.fetchone()

    def _prepared(self, cursor, session) -> str:
        """The EXECUTE text of this statement, prepared on `session` first if it is not yet."""
        marks = getattr(session, "mipos_prepared", None)
        if marks is None:
            marks = session.mipos_prepared = set()
        if self.name not in marks:
            if self._sql is None:
                self._sql = f"PREPARE {self.name} AS {self._build()}"
            cursor.execute(self._sql)
            marks.add(self.name)
        return self._execute


_PLACEHOLDER = re.compile(r"%([%s])")


def _statement_number(session) -> int:
    """A number for a new prepared statement's name, unique on this PostgreSQL session (kept on
    the driver's connection object, which dies with the session)."""
    numbers = getattr(session, "mipos_statement_numbers", None)
    if numbers is None:
        numbers = session.mipos_statement_numbers = itertools.count(1)
    return next(numbers)


class SchemaPreparedStatement(PreparedStatement):
    """A PreparedStatement over one tenant's tables: one prepared statement per schema (its
    tables named with that schema, `qualified_table`), so the plan is never shared across
    tenants and never depends on the search path.

    For the till's hottest reads: PostgreSQL parses and plans a small ad-hoc SELECT in more time
    than it runs it (the barcode lookup: ~160 µs of server time unprepared, ~65 µs prepared). A
    session keeps the statements of its `per_session` most recently used schemas; the oldest is
    deallocated when another is prepared, so a connection serving many companies stays bounded.
    """

    def __init__(
        self, name: str, build: Callable[[str], str], parameters: int, per_session: int = 64
    ) -> None:
        super().__init__(name, lambda: "", parameters)
        self._build_for = build  # the SELECT text with $1…$n for a schema
        self._placeholders = ", ".join(["%s"] * parameters)
        self._per_session = per_session

    def _prepared(self, cursor, session) -> str:
        schema = connection.schema_name
        name = _session_statement(
            cursor, session, self.name, schema,
            text=lambda: self._build_for(schema), keep=self._per_session,
        )  # fmt: skip
        return f"EXECUTE {name}({self._placeholders})"


def execute_prepared(cursor, sql: str, params: Sequence[Any], *, per_session: int = 32) -> None:
    """Runs `sql` (ORM-style: `%s` placeholders, `%%` for a literal percent sign) as a statement
    prepared on this session for the current schema, keyed by its text: a statement whose planning
    costs about what running it does, repeated with the same text (a list's default page). The
    session keeps its `per_session` most recently used texts and deallocates the oldest.

    Inside a transaction it runs unprepared (a failed PREPARE would abort the transaction); and
    when PostgreSQL cannot prepare the text (a parameter whose type it cannot infer), it runs
    unprepared, then and on the session's later calls with that text (no PREPARE retried)."""
    if connection.in_atomic_block:
        cursor.execute(sql, params)
        return
    session = connection.connection
    key = (connection.schema_name, sql)
    try:
        name = _session_statement(
            cursor, session, "mipos_text", key,
            text=lambda: numbered_placeholders(sql), keep=per_session,
        )  # fmt: skip
    except DatabaseError:
        _session_statements(session, "mipos_text")[key] = name = _UNPREPARED
    if name == _UNPREPARED:
        cursor.execute(sql, params)
        return
    arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
    cursor.execute(f"EXECUTE {name}{arguments}", params)


_UNPREPARED = ""  # a text PostgreSQL could not prepare on this session


def _session_statements(session, family: str) -> dict:
    """The statements of `family` prepared on this PostgreSQL session, key → name, least recently
    used first (kept on the driver's connection object, which dies with the session)."""
    families = getattr(session, "mipos_session_statements", None)
    if families is None:
        families = session.mipos_session_statements = {}
    return families.setdefault(family, {})


def _session_statement(
    cursor, session, family: str, key, *, text: Callable[[], str], keep: int
) -> str:
    """The name of `family`'s statement for `key` on this session, preparing `text()` under a new
    name first when there is none (and deallocating the family's least recently used beyond
    `keep`). A failed PREPARE raises and records nothing."""
    statements = _session_statements(session, family)
    name = statements.pop(key, None)  # re-inserted below: dicts keep insertion order
    if name is None:
        if len(statements) >= keep:
            oldest = statements.pop(next(iter(statements)))
            if oldest != _UNPREPARED:
                cursor.execute(f"DEALLOCATE {oldest}")
        name = f"{family}_{_statement_number(session)}"
        cursor.execute(f"PREPARE {name} AS {text()}")
    statements[key] = name
    return name


def numbered_placeholders(sql: str) -> str:
    """`sql` with its `%s` placeholders written as `$1`, `$2`, … (PREPARE's notation) and `%%` as
    the literal `%` it stands for."""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(
        lambda match: "%" if match.group(1) == "%" else f"${next(numbers)}", sql
    )


def _take_pending_health_check() -> bool:
    """True when the request's health check of the persistent connection has not run yet and
    the caller's statement takes its place (outside transactions only: a failed check closes
    the connection)."""
    db = connections[DEFAULT_DB_ALIAS]
    if (
        db.connection is None
        or not db.health_check_enabled
        or db.health_check_done
        or db.in_atomic_block
    ):
        return False
    db.health_check_done = True
    return True


def _pending_search_path() -> list[str] | None:
    """The search path django-tenants would set before the next ordinary query, or None when
    the session already has it."""
    db = connections[DEFAULT_DB_ALIAS]
    if get_limit_set_calls() and db.search_path_set_schemas:
        return None
    return db._get_cursor_search_paths()


def qualified_table(table: str, schema: str | None = None) -> str:
    """`"schema"."table"` for `qualified_cursor` statements (the current tenant's by default).
    Schema names are validated identifiers (django-tenants), table names come from models."""
    quote = connection.ops.quote_name
    return f"{quote(schema or connection.schema_name)}.{quote(table)}"
