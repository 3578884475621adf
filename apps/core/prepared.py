"""The prepared-statement layer: reads whose SQL PostgreSQL parses and plans once per session and
then executes by name, and the cursor that lets them skip django-tenants' search-path round trip.

- `PreparedStatement`: a fixed statement (its row a plain tuple, or with `named=True` a named
  tuple of its columns), and the request's leading one (the authenticated user,
  apps/users/selectors.py): it carries the `SET search_path` the request's next query would send
  and stands in for Django's health check of a persistent connection;
- `SchemaPreparedStatement`: one statement per tenant schema (the till's barcode lookups);
- `execute_prepared`: an ORM-style text prepared per schema and text (the product list's page);
- `qualified_cursor`: a cursor that skips the `SET search_path` for statements naming every table
  with its schema.

Rules it keeps: a statement names every table with its schema (`apps.core.db.qualified_table`),
so neither its text nor its plan depends on the search path or is shared across tenants; what is
prepared on a session is recorded on the driver's connection object, which dies with the session;
each session keeps a bounded number of statements and deallocates the least recently used; inside
a transaction `execute_prepared` prepares nothing (a failed PREPARE would abort it) and the health
check is Django's own. This is the one module that reads private Django and django-tenants
connection state (`health_check_done`, `_setting_search_path`, `search_path_set_schemas`,
`_get_cursor_search_paths`): an upgrade of either is checked against it by
apps/core/tests/test_prepared_statement.py and apps/core/tests/test_search_path.py.

Behind a pooler that hands out server connections per transaction (DB_TRANSACTION_POOLING, the
backend mipos.transaction_pooling) nothing is prepared: a session's statements would be missing
on the next server connection, or exist there under another client's name. Every statement then
runs as plain SQL, its search path sent with it by that backend (`PREPARED`)."""

from __future__ import annotations

import itertools
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django_tenants.utils import get_limit_set_calls, quote_schema_name

# Read once: the deployment's pooler does not change while the process runs.
PREPARED = not settings.DB_TRANSACTION_POOLING


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
    the session. (A session must not be reset while its driver connection lives — a pool's
    `DISCARD ALL` between checkouts. PgBouncer in session mode resets a server session only when
    its client disconnects, so the marks die with it; in transaction mode nothing is prepared.)
    """

    def __init__(
        self, name: str, build: Callable[[], str], parameters: int, *, named: bool = False
    ) -> None:
        self.name = name
        self._build = build  # the SELECT text with $1…$n, built on first use (model metadata)
        self._sql: str | None = None
        self._execute = f"EXECUTE {name}({', '.join(['%s'] * parameters)})"
        # the row as a named tuple of its columns, as `apps.core.db.named_rows` makes them; its
        # class is made on the first row and kept (a row then costs one `_make`, ~0.2 µs)
        self._named = named
        self._row: type | None = None
        self._plain: str | None = None  # the SELECT as ordinary SQL, when nothing is prepared

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
            if not PREPARED:
                cursor.execute(*self._unprepared(params))
                return self._row_of(cursor)
            execute = self._prepared(cursor, connection.connection)
            paths = _pending_search_path()
            if paths is None:
                cursor.execute(execute, params)
            else:
                quoted = ",".join(quote_schema_name(path) for path in paths)
                cursor.execute(f"SET search_path = {quoted}; {execute}", params)
                connection.search_path_set_schemas = paths  # as django-tenants records its own
                cursor.nextset()
            return self._row_of(cursor)

    def _row_of(self, cursor) -> tuple | None:
        row = cursor.fetchone()
        if row is None or not self._named:
            return row
        if self._row is None:  # the statement's text is fixed: so are its column names
            self._row = namedtuple("Row", [column.name for column in cursor.description])
        return self._row._make(row)

    def _unprepared(self, params: list[Any]) -> tuple[str, dict[str, Any]]:
        """The statement as ordinary SQL with its parameters (prepared statements off)."""
        if self._plain is None:
            self._plain = plain_placeholders(self._build())
        return self._plain, _numbered_params(params)

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
        self,
        name: str,
        build: Callable[[str], str],
        parameters: int,
        per_session: int = 64,
        *,
        named: bool = False,
    ) -> None:
        super().__init__(name, lambda: "", parameters, named=named)
        self._build_for = build  # the SELECT text with $1…$n for a schema
        self._placeholders = ", ".join(["%s"] * parameters)
        self._per_session = per_session

    def _unprepared(self, params: list[Any]) -> tuple[str, dict[str, Any]]:
        return plain_placeholders(self._build_for(connection.schema_name)), _numbered_params(params)

    def _prepared(self, cursor, session) -> str:
        schema = connection.schema_name
        name = _session_statement(
            cursor,
            session,
            self.name,
            schema,
            text=lambda: self._build_for(schema),
            keep=self._per_session,
        )
        return f"EXECUTE {name}({self._placeholders})"


def execute_prepared(cursor, sql: str, params: Sequence[Any], *, per_session: int = 32) -> None:
    """Runs `sql` (ORM-style: `%s` placeholders, `%%` for a literal percent sign) as a statement
    prepared on this session for the current schema, keyed by its text: a statement whose planning
    costs about what running it does, repeated with the same text (a list's default page). The
    session keeps its `per_session` most recently used texts and deallocates the oldest.

    Inside a transaction it runs unprepared (a failed PREPARE would abort the transaction); and
    when PostgreSQL cannot prepare the text (a parameter whose type it cannot infer), it runs
    unprepared, then and on the session's later calls with that text (no PREPARE retried)."""
    if connection.in_atomic_block or not PREPARED:
        cursor.execute(sql, params)
        return
    session = connection.connection
    key = (connection.schema_name, sql)
    try:
        name = _session_statement(
            cursor,
            session,
            "mipos_text",
            key,
            text=lambda: numbered_placeholders(sql),
            keep=per_session,
        )
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


_NUMBERED = re.compile(r"\$(\d+)")


def plain_placeholders(text: str) -> str:
    """A PREPARE text (`$1`, `$2`, …) as ordinary SQL for the driver: `%(p1)s`, `%(p2)s`, … with
    a literal `%` doubled (the reverse of `numbered_placeholders`; a number may repeat)."""
    return _NUMBERED.sub(r"%(p\1)s", text.replace("%", "%%"))


def _numbered_params(params: Sequence[Any]) -> dict[str, Any]:
    return {f"p{number}": value for number, value in enumerate(params, 1)}


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
