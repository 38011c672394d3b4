"""Real infrastructure for tests: PostgreSQL databases and Temporal servers (never fakes)."""

import socket
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.migrate import upgrade
from core.pg import drop_database, ensure_database

BIN = Path(sys.executable).parent
TEMPORAL_CLI = BIN / "temporal"
TEST_SERVER = BIN / "temporal-test-server"

# A skip of virtual time returns once the server has run every timer it passes, and those
# timers start the workers' tasks. On loaded cores that can take longer than the 30 s the
# SDK's core gives a call without a deadline of its own ("Timeout expired").
SKIP_DEADLINE = timedelta(minutes=3)


async def start_time_skipping() -> WorkflowEnvironment:
    """A time-skipping test server (pydantic converter) whose `sleep` waits out slow skips."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )

    async def sleep(duration: timedelta | float) -> None:
        request = SleepRequest()
        request.duration.FromTimedelta(
            duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
        )
        await env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=SKIP_DEADLINE
        )

    env.sleep = sleep  # type: ignore[method-assign]
    return env


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


# Reference data the migrations seed: kept between tests (only what tests add is removed).
SEEDED = {"alembic_version", "sla_definitions"}
SEEDED_AT = "2026-11-22T00:00:00+00:00"  # published_at of the definitions migration 0007 seeds


def truncate_all(engine: Engine) -> None:
    """Empty every table between tests (the schema and the seeded reference data stay)."""
    with engine.begin() as conn:
        tables = [
            name
            for name in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            if name not in SEEDED
        ]
        conn.execute(
            text("DELETE FROM sla_definitions WHERE version > 1 OR published_at <> :seeded"),
            {"seeded": SEEDED_AT},
        )
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
