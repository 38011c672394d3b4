"""`python cli.py ...` as an operator runs it, in its own process, against the session's
PostgreSQL and dev server with a worker on the test's queue (the exit codes and output a
shell sees, after the process skips its interpreter teardown)."""

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.api.outcome_flows import setup
from tests.api.review_flows import submitted_case
from tests.support.infra import free_port
from tests.support.outcome_seed import seed_pending_results
from tests.support.tokens import bearer

ROOT = Path(__file__).resolve().parents[2]


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """(exit code, standard output, standard error) of `python cli.py ARGS`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "cli.py",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_daily_commands_in_their_own_process(
    api: httpx.AsyncClient,
    db: Engine,
    dev_env: WorkflowEnvironment,
    database_url: str,
    task_queue: str,
    tmp_path: Path,
) -> None:
    target = dev_env.client.service_client.config.target_host
    env = {"DATABASE_URL": database_url, "TEMPORAL_ADDRESS": target, "TASK_QUEUE": task_queue}
    records = await setup(api, auto_release=False)
    ids = seed_pending_results(db, records.candidate_id, records.element_id, 2)
    listed = tmp_path / "ids.csv"
    listed.write_text("id\n" + "\n".join(ids) + "\n")
    application_id = await submitted_case(api, bearer("alice", "applicant"))

    released = await _cli(env, "release", "--ids", str(listed), "--kind", "result", "--now")
    shown = await _cli(env, "case", "show", f"application-{application_id}", "--json")
    dry = await _cli(env, "sync", "--dry-run")
    down = await _cli({**env, "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}, "sync")
    bad = await _cli(env, "schedule-sync", "--cron", "61 25 * * *")

    code, out, err = released
    assert code == 0, err
    assert "COMPLETED: released 2, skipped 0 of 2" in out
    code, out, err = shown
    assert code == 0, err
    assert json.loads(out)["database"]["state"] == "SUBMITTED"
    code, out, err = dry
    assert code == 0, err
    assert "would sync 0" in out
    assert (down[0], bad[0]) == (3, 2), down[2] + bad[2]
    for _, _, err in (down, bad):
        [line] = err.strip().splitlines()
        assert line.startswith("error: ")
