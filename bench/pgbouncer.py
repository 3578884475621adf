"""A PgBouncer (Debian's `pgbouncer`) of its own in front of a Django database's server: own ini
in a temporary directory, a free port on 127.0.0.1, no authentication (`auth_type = any`, every
client logs in as the server's user). Used by apps/core/tests/test_pgbouncer.py and
bench/pooling.py; not a production configuration (deploy/ and docs/scale-out.md give that)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")  # /usr/sbin is not on every user's PATH


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in PATHS if os.access(path, os.X_OK)), None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as(host: str) -> pwd.struct_passwd | None:
    """PgBouncer refuses to run as root: as root, it runs as the owner of the server's socket
    directory (the embedded PostgreSQL's data directory is private to it), else `postgres`."""
    if os.geteuid() != 0:
        return None
    if host.startswith("/") and os.stat(host).st_uid != 0:
        return pwd.getpwuid(os.stat(host).st_uid)
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run pgbouncer as")


@contextmanager
def pgbouncer(binary: str, server: dict, *, pool_mode: str, pool_size: int) -> Iterator[int]:
    """A PgBouncer in front of the server of `server` (a Django DATABASES entry), at most
    `pool_size` server connections per database; yields its port and stops it after."""
    host = server["HOST"] or "/var/run/postgresql"
    target = f"host={host} port={server['PORT'] or 5432} user={server['USER'] or 'postgres'}"
    if server["PASSWORD"]:
        target += f" password={server['PASSWORD']}"
    port = _free_port()
    directory = tempfile.mkdtemp(prefix="mipos-pgbouncer-")
    ini = os.path.join(directory, "pgbouncer.ini")
    with open(ini, "w") as out:
        out.write(
            f"[databases]\n* = {target}\n\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = any\npool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\n"
            "min_pool_size = 0\nreserve_pool_size = 0\nmax_client_conn = 200\n"
            "query_wait_timeout = 20\nignore_startup_parameters = extra_float_digits\n"
            f"logfile = {os.path.join(directory, 'pgbouncer.log')}\n"
        )
    command = [binary, ini]
    user = _run_as(host)
    if user is not None:
        for path in (directory, ini):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = [binary, "-u", user.pw_name, ini]
    # its log also goes to stderr: to a file, never a pipe nobody reads (a full pipe blocks
    # PgBouncer's one thread: every client then hangs)
    output = os.path.join(directory, "pgbouncer.out")
    with open(output, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    with open(output) as out:
                        raise RuntimeError(f"pgbouncer did not start: {out.read()}") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
