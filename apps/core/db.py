"""How a service writes rows: the audited row helpers, and the plumbing for writes of many rows.

Audited rows. `row_update` is "lock, snapshot, apply typed changes, save changed fields, audit,
publish" in one transaction. The row is read fresh under `SELECT … FOR UPDATE` (never the caller's
copy, which may be stale: a cached request user, a row read before another worker's change), only
the fields whose value differs are written (`UPDATE … SET` of those columns), and a write that
changes nothing writes nothing: no UPDATE, no audit row, no event. `row_create` and
`row_soft_delete` are the same for a new row and a deleted one; each writes its one audit row
(through `audit_writer`, which the audit app registers) in the caller's transaction, and a
unique-index violation becomes the caller's 409 `conflict`, never a 500. Rows are locked in
primary-key order (`rows_lock`); `UNSET`/`sent` tell an absent keyword from an explicit null.

Many rows. `rows_insert` (with `insert_compiled`) sends the new rows of several models in one
round trip (no signals, nothing read back); `document_number_next` numbers documents per company
under a row lock held until commit; `advisory_locks` serialises "check, then insert" across rows
(keys taken in sorted order); `qualified_table` names a table with its schema for raw SQL, and
`named_rows` / `dict_rows` have a raw statement's rows come back as named tuples / dicts (fields
read by name, never by position).

The prepared-statement layer (statements prepared per session, the request's leading statement)
is `apps.core.prepared`; nothing here reads the connection's search-path or health-check state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from django.db import IntegrityError, connection, models, transaction
from django.db.models.functions import Lower
from django.db.models.sql import InsertQuery
from django.utils import timezone
from psycopg.rows import dict_row, namedtuple_row

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
    reason: str = "",
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
    locked row, for rows whose company is only known once read. `reason` (a console action's
    why) is added to the audit row's `after`.
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
                after=_audited(after) | ({"reason": reason} if reason else {}),
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

    def sent(self) -> None:
        """Marks the rows saved, once the statement went out with others (no read back)."""
        for obj in self.rows:
            obj._state.adding = False
            obj._state.db = connection.alias


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


def values_update(
    table: str, column: str, rows: Sequence[tuple[Any, Any]], *, updated_at: Any = None
) -> None:
    """UPDATE `table` SET `column` from (id, numeric value) pairs in one statement — rows the
    caller has locked; `updated_at`, when given, is set too. `table` and `column` are the
    caller's names, never input."""
    if not rows:
        return
    values = ", ".join(["(%s::uuid, %s::numeric)"] * len(rows))
    touched = ", updated_at = %s" if updated_at is not None else ""
    params: list[Any] = [updated_at] if updated_at is not None else []
    for pk, value in rows:
        params += [pk, value]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} t SET {column} = v.value{touched}"  # noqa: S608
            f" FROM (VALUES {values}) AS v (id, value) WHERE t.id = v.id",
            params,
        )


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
        batch.sent()


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


def qualified_table(table: str, schema: str | None = None) -> str:
    """`"schema"."table"` for SQL that names every table with its schema (the current tenant's by
    default): raw statements of the services, and the statements of `apps.core.prepared`. Schema
    names are validated identifiers (django-tenants), table names come from models."""
    quote = connection.ops.quote_name
    return f"{quote(schema or connection.schema_name)}.{quote(table)}"


def named_rows(cursor: Any) -> Any:
    """`cursor` (Django's, or `apps.core.prepared.qualified_cursor`'s), set to return its rows as
    named tuples: `row.sku`, not `row[4]`. The fields are the statement's column names, so name
    every computed column (`… AS unit_name`): two columns of one name are refused (DataError).
    psycopg makes the tuple class once per column list (cached), so a row costs one `_make` —
    still a tuple (unpacking, slicing and equality work as before). Returns the cursor:
    `with named_rows(connection.cursor()) as cursor: …`."""
    cursor.cursor.row_factory = namedtuple_row  # the driver's cursor, under Django's wrapper
    return cursor


def dict_rows(cursor: Any) -> Any:
    """`cursor` set to return its rows as dicts of column name → value, in the statement's column
    order (psycopg's `dict_row`): for rows that become API dicts anyway. Name every computed
    column (`… AS price`). Returns the cursor, as `named_rows`."""
    cursor.cursor.row_factory = dict_row  # the driver's cursor, under Django's wrapper
    return cursor
