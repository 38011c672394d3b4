"""`python cli.py reconcile [--repair]` as an operator runs it: report, exit code, repair."""

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.api.reconcile_flows import running_run, scan_until, terminate
from tests.api.review_flows import submitted_case
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
ROOT = Path(__file__).resolve().parents[2]


async def _cli(database_url: str, target: str, *args: str) -> tuple[int, str]:
    """Run the command in its own process; (exit code, standard output)."""
    env = {**os.environ, "DATABASE_URL": database_url, "TEMPORAL_ADDRESS": target}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "cli.py",
        "reconcile",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    assert process.returncode in (0, 1), err.decode()
    return process.returncode, out.decode()


async def _terminated_case(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> tuple[str, str]:
    """A submitted case whose workflow was terminated, seen by the listing; (id, run id)."""
    application_id = await submitted_case(api, ALICE)
    ended = await terminate(dev_env.client, f"application-{application_id}")
    await scan_until(db, dev_env.client, task_queue, 1)  # visible to the listing
    return application_id, ended


async def test_reconcile_reports_exits_1_then_repairs_and_exits_0(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    db: Engine,
    database_url: str,
    task_queue: str,
) -> None:
    client = dev_env.client
    target = client.service_client.config.target_host
    application_id, ended = await _terminated_case(api, dev_env, db, task_queue)
    workflow_id = f"application-{application_id}"
    queue = ["--task-queue", task_queue, "--settle-s", "0"]

    reported = await _cli(database_url, target, *queue)
    repaired = await _cli(database_url, target, *queue, "--repair")
    after = await _cli(database_url, target, *queue)
    one = await _cli(database_url, target, "--workflow-id", workflow_id)

    code, out = reported
    [line, summary] = out.splitlines()
    assert code == 1
    assert line.split()[:2] == ["application", application_id]
    assert "db SUBMITTED" in " ".join(line.split())
    assert "workflow TERMINATED" in " ".join(line.split())
    assert line.endswith("to repair: restart from the database (same id)")
    assert summary == "1 finding(s); run with --repair to repair them"
    code, out = repaired
    [line, summary] = out.splitlines()
    assert code == 0
    assert "restarted (run " in line
    assert line.endswith("resumed from the database")
    assert summary == "1 finding(s): 1 repaired, 0 left"
    assert await running_run(client, workflow_id) != ended
    assert after == (0, "nothing to reconcile: PostgreSQL and Temporal agree\n")
    assert one == after


async def test_reconcile_json_names_each_finding_and_the_summary(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    db: Engine,
    database_url: str,
    task_queue: str,
) -> None:
    target = dev_env.client.service_client.config.target_host
    application_id, ended = await _terminated_case(api, dev_env, db, task_queue)

    code, out = await _cli(
        database_url, target, "--task-queue", task_queue, "--settle-s", "0", "--json"
    )

    assert code == 1
    report = json.loads(out)
    assert report["summary"] == "1 finding(s); run with --repair to repair them"
    [finding] = report["findings"]
    assert finding == {
        "problem": "open case, workflow not running",
        "kind": "application",
        "id": application_id,
        "workflow_id": f"application-{application_id}",
        "db_state": "SUBMITTED",
        "workflow_state": "TERMINATED",
        "run_id": ended,
        "action": None,
        "repaired": False,
    }
