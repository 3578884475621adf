"""django-tenants' backend for a pooler that hands out a server connection per transaction
(PgBouncer `pool_mode = transaction`): DATABASES ENGINE when DB_TRANSACTION_POOLING=1.

What transaction pooling breaks in the default backend: django-tenants sends `SET search_path`
as a statement of its own, once per schema switch (TENANT_LIMIT_SET_CALLS), and trusts it for
the rest of the client session. Under transaction pooling the SET and the next statement may run
on different server connections, and a server connection keeps the path another client set on
it: a query runs in another company's schema (apps/core/tests/test_pgbouncer.py shows it). SQL
`PREPARE` (apps/core/prepared.py) is session state too: a statement prepared by one client is
missing on the next server connection, or already exists there under another client's name.

What this backend does instead: every transaction carries its own path, in the same round trip
as its first statement. The driver's cursor prefixes `SET LOCAL search_path = …;` to a statement
that starts a transaction (autocommit: every statement; `atomic`: the first one, and again after
a schema switch or a rollback to a savepoint), then moves past the SET's result (`nextset`).
`SET LOCAL` ends with its transaction, so a server connection is handed back with the default
path: a statement that somehow ran without the prefix fails (no tenant table on the default
path) instead of reading another company's rows. Prepared statements are off in this mode
(apps.core.prepared reads the same switch) and so are server-side cursors (settings)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql.base import Cursor as DjangoCursor
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.utils import quote_schema_name
from psycopg import pq

_IDLE = pq.TransactionStatus.IDLE
_INTRANS = pq.TransactionStatus.INTRANS


class PathCursor(DjangoCursor):
    """Django's psycopg cursor (client-side binding: simple query protocol, several statements
    per round trip) that sends the Django connection's search path with the statement starting
    each transaction. State on the driver's connection: `mipos_db` (the Django wrapper whose
    schema is wanted) and `mipos_path_sent` (the SET already sent in the open transaction)."""

    def _path_prefix(self) -> str | None:
        conn = self.connection
        db = getattr(conn, "mipos_db", None)
        if db is None:  # a connection Django did not open (none today): nothing to send
            return None
        status = conn.pgconn.transaction_status
        setting = db.search_path_setting()
        if status == _INTRANS and getattr(conn, "mipos_path_sent", None) == setting:
            return None
        if status not in (_IDLE, _INTRANS):  # failed transaction: only its rollback may run
            return None
        return setting

    def _path_sent(self, setting: str) -> None:
        conn = self.connection
        # inside a transaction the SET LOCAL lasts until it ends; in autocommit it is gone
        conn.mipos_path_sent = setting if conn.pgconn.transaction_status == _INTRANS else None

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        setting = self._path_prefix()
        if setting is None:
            return super().execute(query, params, **kwargs)
        if not isinstance(query, str):  # psycopg.sql.Composed (callproc), bytes
            query = query.as_string(self) if hasattr(query, "as_string") else query.decode()
        prefix = setting.replace("%", "%%") if params is not None else setting
        super().execute(f"{prefix}; {query}", params, **kwargs)
        self.nextset()  # the statement's own result, not the SET's
        self._path_sent(setting)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
        # executemany cannot carry a second statement (psycopg runs it in pipeline mode): the
        # SET LOCAL goes first, in a transaction that also holds the statements
        setting = self._path_prefix()
        if setting is None:
            return super().executemany(query, params_seq, **kwargs)
        if self.connection.autocommit:
            with self.connection.transaction():
                super().execute(setting)
                return super().executemany(query, params_seq, **kwargs)
        super().execute(setting)
        self._path_sent(setting)
        return super().executemany(query, params_seq, **kwargs)


class DatabaseWrapper(TenantDatabaseWrapper):
    """django-tenants' wrapper with the search path sent per transaction (PathCursor) instead
    of per session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._path_key: tuple | None = None
        self._path_setting = ""
        super().__init__(*args, **kwargs)

    def search_path_setting(self) -> str:
        """`SET LOCAL search_path = …` for the selected schema (validated and quoted by
        django-tenants), rebuilt only when the schema changes."""
        key = (self.schema_name, self.include_public_schema)
        if key != self._path_key:
            paths = self._get_cursor_search_paths()
            self._path_setting = "SET LOCAL search_path = " + ",".join(
                quote_schema_name(path) for path in paths
            )
            self._path_key = key
        return self._path_setting

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["cursor_factory"] = PathCursor  # also what the psycopg pool's connections use
        return params

    def get_new_connection(self, conn_params: dict) -> Any:
        conn = super().get_new_connection(conn_params)
        conn.mipos_db = self  # a pooled connection is re-bound each time it is taken
        conn.mipos_path_sent = None
        return conn

    def _handle_search_path(self, cursor: Any = None) -> None:
        """No session-level SET: PathCursor sends the path with each transaction."""

    def savepoint_rollback(self, sid: str) -> None:
        try:
            super().savepoint_rollback(sid)
        finally:
            # a SET LOCAL sent after the savepoint is undone with it: send it again
            if self.connection is not None:
                self.connection.mipos_path_sent = None
