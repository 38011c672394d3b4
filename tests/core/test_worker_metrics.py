"""The worker's Temporal SDK metrics, served for Prometheus by the runtime of its client."""

import asyncio
import uuid

import httpx
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.telemetry import sdk_metrics_runtime
from core.temporal import connect
from tests.support.infra import free_port
from worker import build_worker
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DEFINITION = "result_complete_to_release"


def test_no_port_no_metrics_runtime() -> None:
    assert sdk_metrics_runtime(Settings()) is None


async def _scrape(port: int) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text


def _has(text: str, name: str, **labels: str) -> bool:
    """A sample of `name` (exactly as PromQL sees it) carrying `labels`."""
    return any(
        line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items())
        for line in text.splitlines()
    )


async def test_the_worker_serves_workflow_and_activity_metrics(
    db: Engine, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    port = free_port()
    settings = Settings(worker_metrics_port=port, worker_metrics_host="127.0.0.1")
    target = dev_env.client.service_client.config.target_host
    client = await connect(settings, target=target, runtime=sdk_metrics_runtime(settings))
    subject = str(uuid.uuid4())
    async with build_worker(client, db, task_queue=task_queue, threads=4):
        handle = await client.start_workflow(
            SlaWorkflow.run,
            StartSlaInput(definition=DEFINITION, subject=subject),
            id=sla_workflow_id(DEFINITION, subject),
            task_queue=task_queue,
        )
        await handle.signal(SlaWorkflow.stop)
        await handle.result()
        for _ in range(50):  # the runtime exports on its own schedule
            text = await _scrape(port)
            if _has(text, "temporal_workflow_completed"):
                break
            await asyncio.sleep(0.1)

    queue = {"task_queue": task_queue}
    assert _has(text, "temporal_workflow_completed", workflow_type="SlaWorkflow", **queue)
    assert _has(text, "temporal_activity_execution_latency_count", activity_type="open_sla")
    assert _has(text, "temporal_activity_schedule_to_start_latency_bucket", **queue)
    assert _has(text, "temporal_workflow_task_schedule_to_start_latency_bucket", **queue)
    assert _has(text, "temporal_num_pollers", poller_type="activity_task", **queue)
    assert _has(text, "temporal_request", operation="StartWorkflowExecution")
