"""`token`, `schedule-sync`, `reconcile --json` and `setup` in process: output and exit codes."""

import contextlib
import json

from sqlalchemy import Engine
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.services.checklist_sync import DEFAULT_SCHEDULE_ID
from core.auth import read_token
from domain.access import Role
from tests.cli.conftest import Cli, invoke, one_line_error
from tests.support.infra import free_port


def test_token_mints_what_the_api_reads() -> None:
    minted = invoke(
        {"AUTH_SECRET": "s" * 32}, "token", "--sub", "rita", "--role", "reviewer", "--role", "qa"
    )

    assert minted.exit_code == 0, minted.output
    who = read_token(minted.stdout.strip(), secret="s" * 32)
    assert (who.sub, who.roles) == ("rita", frozenset({Role.REVIEWER, Role.QA}))


def test_token_without_a_secret_exits_2() -> None:
    result = invoke({"AUTH_SECRET": ""}, "token", "--sub", "rita", "--role", "reviewer")

    assert result.exit_code == 2, result.output
    assert "set AUTH_SECRET first" in one_line_error(result)


async def test_schedule_sync_creates_the_schedule(cli: Cli, dev_env: WorkflowEnvironment) -> None:
    result = await cli("schedule-sync", "--cron", "0 3 * * *", "--dry-run")

    schedule = dev_env.client.get_schedule_handle(DEFAULT_SCHEDULE_ID)
    try:
        assert result.exit_code == 0, result.output
        assert (
            result.stdout
            == f"schedule {DEFAULT_SCHEDULE_ID}: check-list sync on cron '0 3 * * *'\n"
        )
        described = await schedule.describe()
        [calendar] = described.schedule.spec.calendars  # the server keeps cron as calendars
        assert [(r.start, r.end) for r in calendar.hour] == [(3, 3)]
    finally:
        with contextlib.suppress(RPCError):  # none was made when the command failed
            await schedule.delete()


async def test_reconcile_json_on_agreeing_stores(db: Engine, cli: Cli, task_queue: str) -> None:
    agreed = await cli("reconcile", "--task-queue", task_queue, "--settle-s", "0", "--json")
    refused = await cli("reconcile", "--task-queue", "casework' OR 'x")

    assert agreed.exit_code == 0, agreed.output
    assert json.loads(agreed.stdout) == {
        "findings": [],
        "summary": "nothing to reconcile: PostgreSQL and Temporal agree",
    }
    assert refused.exit_code == 2, refused.output
    assert "not a task queue name" in one_line_error(refused)


def test_setup_with_postgresql_down_exits_3() -> None:
    down = f"postgresql+psycopg://casework@127.0.0.1:{free_port()}/casework"

    result = invoke({"DATABASE_URL": down}, "setup", "--wait-s", "1")

    assert result.exit_code == 3, result.output
    assert "PostgreSQL is unreachable" in one_line_error(result)
