"""The worker: runs every workflow and activity on task queue `casework` and on the
time-critical queue beside it, `casework-critical` (or one of them: WORKER_QUEUES)."""

import argparse
import asyncio
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import activities_of
from activities.application import ApplicationActivities
from activities.assignment import AssignmentActivities
from activities.cancellation import CancellationActivities
from activities.checklist_sync import ChecklistSyncActivities
from activities.induction import InductionActivities
from activities.outcome import OutcomeActivities
from activities.outcome_batch import OutcomeBatchActivities
from activities.resumption import ResumptionActivities
from activities.review import ReviewActivities
from activities.sla import SlaActivities
from activities.webhook import WebhookActivities
from core.db import make_engine, ping
from core.log_interceptor import TransitionLogInterceptor
from core.logging import configure_logging
from core.settings import Settings, WorkerQueues, critical_queue, get_settings
from core.telemetry import sdk_metrics_runtime, start_tracing, temporal_tracing, trace_engines
from core.temporal import connect_patiently
from workflows.application import ApplicationReviewWorkflow
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.induction import InductionRegistrationWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.sla import SlaWorkflow
from workflows.webhook import WebhookDeliveryWorkflow

WORKFLOWS = [
    ApplicationReviewWorkflow,
    InductionRegistrationWorkflow,
    ChecklistSyncWorkflow,
    SlaWorkflow,
]
WORKFLOWS += [OutcomeReleaseWorkflow, OutcomeReleaseBatchWorkflow]
WORKFLOWS += [WebhookDeliveryWorkflow]

# Our pure modules (rules, payloads, search-attribute keys) are deterministic and
# stateless, so the sandbox shares them instead of re-importing them per run. So are the
# workflows' helpers (no module state; decision 0090): only each workflow's own module is
# imported afresh per run, and its code still runs under the sandbox's restrictions.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "domain",
        "workflows.payloads",
        "workflows.refusal",
        "core.temporal",
        "core.settings",
        "workflows.case_workflow",
        "workflows.console",
        "workflows.descriptions",
        "workflows.cancellation",
        "workflows.resumption",
        "workflows.search_keys",
        "workflows.typevars",
        # The outcome release's workflows, stateless too: a new or evicted run no longer
        # re-imports its module (about a quarter of its replay's CPU; decision 0101).
        "workflows.outcome",
        "workflows.outcome_batch",
        "workflows.sla",
    )
)


# Workflow tasks in progress at once per queue. They share one Python thread's CPU: with
# the SDK's default (100) a burst (10,000 outcomes woken at one instant) made each task
# take over its 10 s timeout, so tasks were retried faster than they completed (decision 0091).
WORKFLOW_TASKS = 8


class Workers:
    """One worker per polled queue, run together (`async with`), sharing one engine."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._stack = AsyncExitStack()

    @property
    def task_queues(self) -> list[str]:
        """The queues polled."""
        return [worker.task_queue for worker in self.workers]

    def config(self) -> Any:
        """The first worker's configuration (every one registers the same)."""
        return self.workers[0].config()

    async def __aenter__(self) -> "Workers":
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


def polled_queues(task_queue: str, queues: WorkerQueues = "both") -> list[str]:
    """The queues a worker polls: the ordinary `task_queue`, its time-critical one, or both."""
    chosen = {
        "both": [task_queue, critical_queue(task_queue)],
        "ordinary": [task_queue],
        "critical": [critical_queue(task_queue)],
    }[queues]
    return list(dict.fromkeys(chosen))


def build_worker(
    client: Client,
    engine: Engine,
    *,
    task_queue: str,
    threads: int = 16,
    queues: WorkerQueues = "both",
    cached_workflows: int | None = None,
) -> Workers:
    """Workers for `queues` (by default `task_queue` and its time-critical queue, each with
    `threads` activity slots: a backlog on one never takes the other's), every workflow and
    the activities bound to `engine` registered on each. Each keeps `cached_workflows`
    workflows in memory (by default WORKER_CACHED_WORKFLOWS)."""
    if cached_workflows is None:
        cached_workflows = get_settings().worker_cached_workflows
    return Workers(
        [
            _one_worker(client, engine, task_queue=queue, threads=threads, cached=cached_workflows)
            for queue in polled_queues(task_queue, queues)
        ]
    )


def _one_worker(
    client: Client, engine: Engine, *, task_queue: str, threads: int, cached: int
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=SANDBOX,
        activities=activities_of(
            ApplicationActivities(engine),
            AssignmentActivities(engine),
            ReviewActivities(engine),
            SlaActivities(engine, client),
            ChecklistSyncActivities(engine),
            InductionActivities(engine),
            OutcomeActivities(engine),
            OutcomeBatchActivities(engine, client),
            CancellationActivities(engine, client),
            ResumptionActivities(engine),
            WebhookActivities(engine),
        ),
        # The client's tracing interceptor (when on) is a worker interceptor too: added by the SDK.
        interceptors=[TransitionLogInterceptor()],
        activity_executor=ThreadPoolExecutor(max_workers=threads),
        max_concurrent_activities=threads,
        max_concurrent_workflow_tasks=WORKFLOW_TASKS,
        # Sized to a burst (10,000 outcomes and their SLAs at one instant): an evicted
        # workflow replays its whole history in a fresh sandbox on each task (decision 0101).
        max_cached_workflows=cached,
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


HEARTBEAT_EVERY_S = 10


async def keep_heartbeat(path: Path | None, client: Client, engine: Engine) -> None:
    """Touch `path` every few seconds while Temporal and PostgreSQL answer this worker."""
    while path is not None:
        try:
            await asyncio.wait_for(client.service_client.check_health(), timeout=5)
            await asyncio.wait_for(asyncio.to_thread(ping, engine), timeout=5)
            await asyncio.to_thread(path.touch)
        except Exception as error:
            logging.warning("no heartbeat: a dependency did not answer: %r", error)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def heartbeat_problem(path: Path | None, *, now: float) -> str | None:
    """Why the worker is not healthy (no fresh heartbeat), or None when it is."""
    if path is None:
        return "WORKER_HEARTBEAT_FILE is not set"
    try:
        age_s = now - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat yet in {path}"
    if age_s > 3 * HEARTBEAT_EVERY_S:
        return f"the last heartbeat in {path} is {age_s:.0f} s old"
    return None


async def main(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight work and stop."""
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set (make run sets it for you)")
    polled = polled_queues(settings.task_queue, settings.worker_queues)
    engine = make_engine(settings.database_url, pool_size=settings.activity_threads * len(polled))
    tracing = start_tracing(settings, process="worker")
    if tracing is not None:
        trace_engines(tracing, engine)
    # The SDK metrics come from the runtime of the client the worker polls with.
    runtime = sdk_metrics_runtime(settings)
    client = await connect_patiently(
        settings, runtime=runtime, interceptors=temporal_tracing(tracing)
    )
    worker = build_worker(
        client,
        engine,
        task_queue=settings.task_queue,
        threads=settings.activity_threads,
        queues=settings.worker_queues,
        cached_workflows=settings.worker_cached_workflows,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        logging.info(
            "worker polling task queue(s) %s (SDK metrics: %s)",
            ", ".join(worker.task_queues),
            f"port {settings.worker_metrics_port}" if runtime else "off",
        )
        heartbeat = keep_heartbeat(settings.worker_heartbeat_file, client, engine)
        beating = asyncio.create_task(heartbeat)
        await stop.wait()
        beating.cancel()
    engine.dispose()


def settings_for(argv: list[str]) -> Settings:
    """The settings, `--queues both|ordinary|critical` (a pool's manifest) over WORKER_QUEUES."""
    parser = argparse.ArgumentParser(prog="worker.py")
    parser.add_argument("--queues", choices=get_args(WorkerQueues), default=None)
    queues = parser.parse_args(argv).queues
    settings = get_settings()
    return settings if queues is None else settings.model_copy(update={"worker_queues": queues})


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:  # healthcheck: exit 1 unless the heartbeat is fresh
        problem = heartbeat_problem(get_settings().worker_heartbeat_file, now=time.time())
        print(problem or "healthy")
        sys.exit(1 if problem else 0)
    configure_logging(get_settings(), process="worker")
    asyncio.run(main(settings_for(sys.argv[1:])))
