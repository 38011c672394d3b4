"""Real infrastructure for tests: PostgreSQL databases and Temporal servers (never fakes)."""

import socket
import sys
import uuid
from pathlib import Path

from sqlalchemy import Engine, text

from core.migrate import upgrade
from core.pg import drop_database, ensure_database

BIN = Path(sys.executable).parent
TEMPORAL_CLI = BIN / "temporal"
TEST_SERVER = BIN / "temporal-test-server"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_database(admin_url: str) -> tuple[str, str]:
    """Create and migrate a database of its own for this run; return (name, url)."""
    name = f"casework_test_{uuid.uuid4().hex[:10]}"
    url = ensure_database(admin_url, name)
    upgrade(url)
    return name, url


def forget_database(admin_url: str, name: str) -> None:
    """Drop the run's database."""
    drop_database(admin_url, name)


def truncate_all(engine: Engine) -> None:
    """Empty every table between tests (the schema stays)."""
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
