"""Worker logs: each activity and workflow message logged with workflow id, run id, activity."""

import uuid

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.support.logs import json_logs
from worker import build_worker
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DEFINITION = "result_complete_to_release"


async def test_activity_and_workflow_lines_carry_the_run_they_belong_to(
    db: Engine, ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    subject = str(uuid.uuid4())
    workflow_id = sla_workflow_id(DEFINITION, subject)
    with json_logs("worker") as logs:
        async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
            handle = await ts_env.client.start_workflow(
                SlaWorkflow.run,
                StartSlaInput(definition=DEFINITION, subject=subject),
                id=workflow_id,
                task_queue=task_queue,
            )
            await handle.signal(SlaWorkflow.stop)
            await handle.result()
        run_id = handle.result_run_id

    same_run = {"workflow_id": workflow_id, "run_id": run_id}
    opened = logs.where(activity="open_sla", **same_run)
    assert [line["message"] for line in opened][:2] == [
        "Starting activity",  # the SDK's own line, with the ids as fields too
        "activity started (attempt 1)",
    ]
    completed = [line for line in opened if line.get("outcome") == "completed"]
    assert len(completed) == 1
    assert completed[0]["level"] == "INFO"
    assert completed[0]["service"] == "casework-worker"
    assert completed[0]["duration_ms"] >= 0
    assert logs.where(message="signal stop", signal="stop", **same_run)
    assert logs.where(message="workflow SlaWorkflow started", **same_run)
    assert all("request_id" not in line for line in logs.all())
