"""The production configuration serves every feature: a dev server started with the shipped
dynamic config (and the dev-only defaults set back to the production server's), a fresh
namespace made ready by `cli.py setup` alone (no --search-attribute flags), then a
submit, updates, a schedule and a batch release through the real API and worker."""

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow

from api.services.checklist_sync import DEFAULT_SCHEDULE_ID
from core.db import make_engine
from core.settings import Settings
from core.temporal import connect
from tests.api.outcome_flows import RELEASER, setup
from tests.e2e.conftest import spawn, stop, wait_for
from tests.support.builders import complete_answers, make_template
from tests.support.dynamic_config import dev_server_flags
from tests.support.infra import TEMPORAL_CLI, free_port
from tests.support.outcome_seed import seed_pending_results
from tests.support.tokens import SECRET, bearer

pytestmark = pytest.mark.e2e
BATCH = 101  # more than 100 outcomes: a bulk-release workflow


async def test_a_server_on_the_production_config_runs_every_feature(
    database_url: str, python_env: dict[str, str], tmp_path: Path
) -> None:
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    namespace = f"casework-prod-{temporal_port}"
    server = spawn(
        [
            *(str(TEMPORAL_CLI), "server", "start-dev", "--headless", "--log-level", "warn"),
            *("--ip", "127.0.0.1", "--port", str(temporal_port), "--ui-port", str(ui_port)),
            *dev_server_flags(),
        ],
        python_env,
        tmp_path / "temporal.log",
    )
    env = {
        **python_env,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "TEMPORAL_NAMESPACE": namespace,
        "AUTH_SECRET": SECRET,
    }
    processes = [server]
    try:
        set_up = await asyncio.to_thread(_cli, ["setup", "--wait-s", "120"], env)
        assert set_up.returncode == 0, set_up.stdout + set_up.stderr
        processes.append(spawn([sys.executable, "worker.py"], env, tmp_path / "worker.log"))
        processes.append(
            spawn(
                [sys.executable, "-m", "uvicorn", "api.app:app", "--port", str(api_port)],
                env,
                tmp_path / "api.log",
            )
        )
        wait_for(f"http://127.0.0.1:{api_port}/readyz")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=60) as api:
            await _submit_and_update(api)
            await _batch_release(api, database_url)
        settings = Settings(temporal_address=env["TEMPORAL_ADDRESS"], temporal_namespace=namespace)
        client = await connect(settings)
        await _scheduled_sync(client, env)
    finally:
        for process in reversed(processes):
            stop(process)


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python cli.py ARGS` as a deployment's one-shot job runs it."""
    command = [sys.executable, "cli.py", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


async def _submit_and_update(api: httpx.AsyncClient) -> None:
    """Submit (update-with-start), then the reviewer's self-assign and start (updates)."""
    admin, alice = bearer("admin", "admin"), bearer("alice", "applicant")
    template = make_template(stages=[{"code": "assessment", "name": "Assessment", "levels": 1}])
    assert (await api.post("/v1/templates", json=template, headers=admin)).status_code == 201
    grant = {"template_code": "qts", "stage": "assessment", "level": 1}
    reviewer = {"id": "rev-1", "name": "Rita", "roles": ["reviewer"], "review_grants": [grant]}
    assert (await api.post("/v1/users", json=reviewer, headers=admin)).status_code in (201, 409)
    draft = await api.post("/v1/applications", json={"template_code": "qts"}, headers=alice)
    application_id = draft.json()["id"]
    for element, value in complete_answers().items():
        path = f"/v1/applications/{application_id}/responses/{element}"
        assert (await api.put(path, json={"value": value}, headers=alice)).status_code == 200

    submitted = await api.post(f"/v1/applications/{application_id}/submit", headers=alice)

    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "SUBMITTED"
    rita = bearer("rev-1", "reviewer")
    rows = await api.get(f"/v1/applications/{application_id}/assignments", headers=rita)
    assignment_id = rows.json()["items"][0]["id"]
    taken = await api.post(f"/v1/assignments/{assignment_id}/self-assign", headers=rita)
    assert taken.status_code == 200, taken.text
    started = await api.post(f"/v1/assignments/{assignment_id}/reviews", headers=rita)
    assert started.status_code == 201, started.text


async def _batch_release(api: httpx.AsyncClient, database_url: str) -> None:
    """More than 100 pending outcomes released at once: the bulk-release workflow."""
    records = await setup(api, auto_release=False)
    engine = make_engine(database_url)
    ids = seed_pending_results(engine, records.candidate_id, records.element_id, BATCH)
    engine.dispose()
    refs = [{"kind": "result", "id": outcome_id} for outcome_id in ids]

    started = await api.post(
        "/v1/outcome-releases", json={"outcomes": refs, "mode": "now"}, headers=RELEASER
    )

    assert started.status_code == 202, started.text
    path = f"/v1/outcome-releases/batches/{started.json()['batch_id']}"
    for _ in range(600):
        progress = (await api.get(path, headers=RELEASER)).json()
        if progress["status"] == "COMPLETED":
            break
        await asyncio.sleep(0.1)
    assert progress["status"] == "COMPLETED", progress
    assert progress["released"] == BATCH


async def _scheduled_sync(client: Client, env: dict[str, str]) -> None:
    """`cli.py schedule-sync` makes a Temporal Schedule; triggered, it runs a sync to its end."""
    made = await asyncio.to_thread(_cli, ["schedule-sync", "--cron", "0 2 * * *", "--dry-run"], env)
    assert made.returncode == 0, made.stdout + made.stderr
    schedule = client.get_schedule_handle(DEFAULT_SCHEDULE_ID)

    await schedule.trigger()

    for _ in range(300):
        actions = (await schedule.describe()).info.recent_actions
        if actions:
            break
        await asyncio.sleep(0.1)
    assert actions, "the triggered schedule started nothing"
    started = actions[0].action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    run = client.get_workflow_handle(started.workflow_id, run_id=started.first_execution_run_id)
    await asyncio.wait_for(run.result(), timeout=120)
