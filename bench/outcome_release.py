"""Bulk scheduled release: N pending results scheduled for one instant.

Starts an embedded PostgreSQL and a Temporal dev server (both real) and an
in-process worker polling both task queues, as `make run` does (the ordinary one and the
time-critical one, decision 0091). Seeds N pending results, each with its running
OutcomeReleaseWorkflow and its running `result_complete_to_release` SlaWorkflow,
schedules them all for one instant through the same path as `POST /v1/outcome-releases`
(a batch workflow), and prints the seconds from that instant until every outcome is
released in the database with its `result.released` event, until the batch has told
every outcome's workflow, until every outcome workflow (and every SLA workflow) closed,
and the process's peak memory (worker + client). At the instant the N outcome workflows'
tasks (then their SLAs') are the backlog the batch must not wait behind. The baseline in
the same run is the floor: the same set-based release, called directly in chunks, no
Temporal.

    .venv/bin/python bench/outcome_release.py [N] [LEAD_SECONDS]
"""

import asyncio
import os
import resource
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType, TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.services.outcome_release import start_batch
from api.services.sla import start_sla
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.settings import critical_queue
from core.temporal import SEARCH_ATTRIBUTES
from domain.access import Principal, Role
from domain.outcome import CandidateStatus, Grade, OutcomeKind, ReleaseMethod, ReleaseMode
from models.candidate import Candidate, Element, Provider
from models.event import OutboxEvent
from models.outcome import Outcome, OutcomeRef, ReleaseBatch
from models.outcome_release import release_outcomes
from worker import build_worker
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_start import batch_workflow_id, workflow_id
from workflows.payloads.outcome import StartOutcomeReleaseInput
from workflows.payloads.sla import StartSlaInput

BIN = Path(sys.executable).parent
QUEUE = "bench"
RELEASER = Principal(sub="bench", roles=frozenset({Role.RELEASER}))


def seed(engine: Engine, count: int) -> tuple[str, str, list[str]]:
    """A holding provider, one candidate, one element and `count` pending results."""
    now = datetime.now(UTC)
    provider, candidate, element = (str(uuid.uuid4()) for _ in range(3))
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with Session(engine) as session, session.begin():
        session.add(
            Provider(
                id=provider,
                name="Bench",
                auto_release_outcomes=False,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        session.add(
            Candidate(
                id=candidate,
                name="Bench",
                provider_id=provider,
                status=CandidateStatus.IN_ASSESSMENT,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        session.add(
            Element(
                id=element, candidate_id=candidate, component="c", scheduled_at=now, created_at=now
            )
        )
        session.flush()
        session.bulk_insert_mappings(
            Outcome,
            [
                {
                    "id": outcome_id,
                    "kind": "result",
                    "candidate_id": candidate,
                    "element_id": element,
                    "grade": "PASS",
                    "status": "PENDING_RELEASE",
                    "submitted_by": "bench",
                    "submitted_at": now,
                    "completed_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "sampled_for_qa": False,
                    "amendments": 0,
                    "revision": 1,
                    "tracked": True,
                }
                for outcome_id in ids
            ],
        )
    return provider, candidate, ids


def released_counts(engine: Engine, candidate_id: str) -> tuple[int, int]:
    """(results released, result.released events) of the candidate (cheap to poll)."""
    with Session(engine) as session:
        rows = session.exec(
            select(func.count()).where(
                Outcome.candidate_id == candidate_id, Outcome.status == "RELEASED"
            )
        ).one()
        events = session.exec(
            select(func.count()).where(
                OutboxEvent.type == "result.released",
                OutboxEvent.data["candidate_id"].astext == candidate_id,
            )
        ).one()
    return int(rows), int(events)


async def start_workflows(
    client: Client, provider: str, candidate: str, ids: list[str], concurrency: int = 100
) -> None:
    """Each pending result's own workflow, waiting for its release (as after a submission),
    and its release SLA (as the submission's `start_sla` starts it: on the critical queue)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(outcome_id: str) -> None:
        async with gate:
            definition = "result_complete_to_release"
            sla = StartSlaInput(definition=definition, subject=outcome_id, candidate_id=candidate)
            await start_sla(client, sla, task_queue=QUEUE)
            await client.start_workflow(
                OutcomeReleaseWorkflow.run,
                StartOutcomeReleaseInput(
                    kind=OutcomeKind.RESULT,
                    outcome_id=outcome_id,
                    candidate_id=candidate,
                    provider_id=provider,
                    grade=Grade.PASS,
                ),
                id=workflow_id(OutcomeKind.RESULT, outcome_id),
                task_queue=QUEUE,
            )

    await asyncio.gather(*(one(i) for i in ids))


async def drained(client: Client) -> None:
    """Wait until neither task queue has a task waiting (every workflow is idle)."""
    requests = [
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=kind,
            include_task_queue_status=True,
        )
        for queue in (QUEUE, critical_queue(QUEUE))
        for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
    ]
    quiet = 0
    while quiet < 3:
        await asyncio.sleep(0.5)
        try:
            statuses = [await client.workflow_service.describe_task_queue(r) for r in requests]
        except RPCError:  # a dev server this busy drops calls: ask again
            quiet = 0
            continue
        idle = all(s.task_queue_status.backlog_count_hint == 0 for s in statuses)
        quiet = quiet + 1 if idle else 0


async def settled(process: psutil.Process, idle_share: float = 0.15, limit_s: float = 900) -> None:
    """Wait until this process (the worker) is idle: a backlog count misses the tasks of
    cached workflows (their sticky queues), which the setup's last tasks are."""
    quiet, began = 0, time.perf_counter()
    while quiet < 2 and time.perf_counter() - began < limit_s:
        before = sum(process.cpu_times()[:2])
        await asyncio.sleep(2)
        quiet = quiet + 1 if sum(process.cpu_times()[:2]) - before < 2 * idle_share else 0


async def running_workflows(client: Client, workflow_type: str) -> int:
    """Workflows of the type still open (dev-server visibility)."""
    query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"
    try:
        return (await client.count_workflows(query)).count
    except RPCError:  # a dev server this busy drops calls: not known to be 0
        return -1


async def through_batch(
    engine: Engine, ids: list[str], provider: str, candidate: str, lead_s: float
) -> None:
    """Schedule every outcome for one instant through a batch; report what happens after it."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    process = psutil.Process()
    async with env, build_worker(env.client, engine, task_queue=QUEUE, threads=16):
        began = time.perf_counter()
        await start_workflows(env.client, provider, candidate, ids)
        await drained(env.client)
        await settled(process)
        took = time.perf_counter() - began
        print(
            f"setup: {len(ids)} outcome workflows and their SLAs started and idle in {took:.1f} s",
            flush=True,
        )
        rss_before = process.memory_info().rss
        instant = datetime.now(UTC) + timedelta(seconds=lead_s)
        refs = [OutcomeRef(kind=OutcomeKind.RESULT, id=i) for i in ids]
        batch_id = await start_batch(
            engine,
            env.client,
            RELEASER,
            refs,
            mode=ReleaseMode.SCHEDULED,
            release_at=instant,
            task_queue=QUEUE,
            at=datetime.now(UTC),
        )
        peak = rss_before
        released_s = completed_s = closed_s = slas_s = None
        cpu = CpuShares(process)
        await asyncio.sleep(max((instant - datetime.now(UTC)).total_seconds(), 0))
        cpu.start()
        while closed_s is None or slas_s is None:
            await asyncio.sleep(0.2)
            peak = max(peak, process.memory_info().rss)
            since = (datetime.now(UTC) - instant).total_seconds()
            if released_s is None and released_counts(engine, candidate) == (len(ids), len(ids)):
                released_s = since
            if completed_s is None:
                with Session(engine) as session:
                    batch = session.get(ReleaseBatch, batch_id)
                    if batch is not None and batch.status == "COMPLETED":
                        completed_s = since
            outcomes, slas = "OutcomeReleaseWorkflow", "SlaWorkflow"
            if closed_s is None and completed_s is not None:
                closed_s = since if await running_workflows(env.client, outcomes) == 0 else None
            if slas_s is None and closed_s is not None:
                slas_s = since if await running_workflows(env.client, slas) == 0 else None
        cpu.stop()
        await print_timeline(env.client, batch_id, instant)
        print(f"batch (scheduled {lead_s:.0f} s ahead, {len(ids)} results):")
        print(f"  released in DB + events   {released_s:8.2f} s after the instant")
        print(f"  batch completed (notified){completed_s:8.2f} s after the instant")
        print(f"  every outcome workflow closed {closed_s:5.2f} s after the instant")
        print(f"  every SLA workflow closed {slas_s:9.2f} s after the instant")
        print(f"  load average (1/5/15 min) {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"  process RSS before {rss_before / 2**20:7.0f} MiB, peak {peak / 2**20:7.0f} MiB, "
            f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB"
        )
        cpu.report(len(ids), slas_s)


class CpuShares:
    """CPU seconds from the instant until every workflow closed: this process (worker,
    client, the bench's polls) and the Temporal dev server, per outcome and per second."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.server = next(
            (c for c in process.children(recursive=True) if "temporal" in c.name()), None
        )
        self.began: tuple[float, float] = (0.0, 0.0)
        self.spent: tuple[float, float] = (0.0, 0.0)

    def _now(self) -> tuple[float, float]:
        mine = sum(self.process.cpu_times()[:2])
        server = sum(self.server.cpu_times()[:2]) if self.server else 0.0
        return mine, server

    def start(self) -> None:
        self.began = self._now()

    def stop(self) -> None:
        (mine, server), (mine0, server0) = self._now(), self.began
        self.spent = (mine - mine0, server - server0)

    def report(self, count: int, seconds: float | None) -> None:
        for who, used in zip(("worker process", "dev server"), self.spent, strict=True):
            share = f", {used / seconds:4.2f} of a core" if seconds else ""
            print(
                f"  CPU {who:15s} {used:8.1f} s: {1000 * used / count:5.1f} ms per outcome{share}"
            )


async def print_timeline(client: Client, batch_id: str, instant: datetime) -> None:
    """When each step of the batch workflow happened, relative to the instant, then the time
    spent in each activity (scheduled to completed, summed per activity type)."""
    history = await client.get_workflow_handle(batch_workflow_id(batch_id)).fetch_history()
    scheduled: dict[int, tuple[str, datetime]] = {}
    spent: dict[str, list[float]] = {}
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        at = event.event_time.ToDatetime(tzinfo=UTC)
        if name == "ACTIVITY_TASK_SCHEDULED":
            kind = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = (kind, at)
        if name == "ACTIVITY_TASK_COMPLETED":
            kind, began = scheduled[
                event.activity_task_completed_event_attributes.scheduled_event_id
            ]
            spent.setdefault(kind, []).append((at - began).total_seconds())
        if name in ("TIMER_FIRED", "ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_COMPLETED"):
            print(f"    {(at - instant).total_seconds():8.2f} s  {name}")
    for kind, seconds in spent.items():
        print(
            f"  {kind:26s} {len(seconds):3d} call(s) {sum(seconds):8.2f} s"
            f" (longest {max(seconds):.2f} s)"
        )


def directly(engine: Engine, ids: list[str], chunk: int = 1000) -> float:
    """The floor: the same set-based release, chunk by chunk, no Temporal."""
    began = time.perf_counter()
    for start in range(0, len(ids), chunk):
        with Session(engine) as session, session.begin():
            release_outcomes(
                session,
                ids[start : start + chunk],
                method=ReleaseMethod.SCHEDULED,
                at=datetime.now(UTC),
                actor="bench",
            )
    return time.perf_counter() - began


def main() -> None:
    # A kill ends the run through its `finally`s: the dev server and PostgreSQL it started
    # stop too (orphaned, they would hold /work/bench.lock, which they inherited).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    # The batch must have scheduled every outcome before the instant (the timeline shows it).
    lead_s = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    pgdata = Path(tempfile.mkdtemp(prefix="casework-bench-")) / "pg"
    admin = start_embedded(pgdata)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin, name)
    upgrade(url)
    engine = make_engine(url, pool_size=20)
    try:
        _, baseline_candidate, baseline_ids = seed(engine, count)
        provider, candidate, batch_ids = seed(engine, count)
        floor = directly(engine, baseline_ids)
        assert released_counts(engine, baseline_candidate) == (count, count)
        print(f"outcome_release: {count} pending results")
        print(f"set-based SQL baseline (chunks of 1000, no Temporal): {floor:8.2f} s", flush=True)
        asyncio.run(through_batch(engine, batch_ids, provider, candidate, lead_s))
    finally:
        engine.dispose()
        drop_database(admin, name)
        stop_embedded(pgdata)


if __name__ == "__main__":
    main()
