"""Time-critical work has its own task queue (decision 0091): a release batch and an SLA's
breach proceed while the ordinary queue has no worker at all (a backlog there is no wait)."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.testing import WorkflowEnvironment

from api.services.outcome_release import start_batch
from api.services.sla import start_sla
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMode
from domain.sla import SlaStatus
from models.event import OutboxEvent
from models.outcome import Outcome, OutcomeRef
from tests.support.outcome_seed import seed_records
from tests.support.outcome_submit import submit_result
from tests.support.seed import seed_ten_day_sla
from worker import build_worker, polled_queues
from workflows.outcome_start import batch_workflow_id
from workflows.payloads.outcome import BatchCounts
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

RELEASER = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))
# A liveness bound only (the test asserts no time): on one queue the batch never starts.
PATIENCE_S = 60


def test_a_worker_polls_both_queues_by_default_and_one_per_pool() -> None:
    assert polled_queues("q") == ["q", "q-critical"]
    assert polled_queues("q", "ordinary") == ["q"]
    assert polled_queues("q", "critical") == ["q-critical"]


async def test_a_release_batch_proceeds_while_the_ordinary_queue_has_no_worker(
    dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    records = seed_records(db, auto_release=False)
    async with build_worker(client, db, task_queue=task_queue, threads=4):
        submitted = [await submit_result(client, records, task_queue) for _ in range(3)]
    assert {s.status for s in submitted} == {OutcomeStatus.PENDING_RELEASE}
    ids = [s.outcome_id for s in submitted]
    refs = [OutcomeRef(kind=OutcomeKind.RESULT, id=i) for i in ids]
    now = datetime.now(UTC)
    soon = now + timedelta(seconds=2)
    scheduled = ReleaseMode.SCHEDULED

    # From here only the time-critical pool runs: the outcomes' own workflows wait.
    async with build_worker(client, db, task_queue=task_queue, threads=4, queues="critical"):
        batch_id = await start_batch(
            db,
            client,
            RELEASER,
            refs,
            mode=scheduled,
            release_at=soon,
            task_queue=task_queue,
            at=now,
        )
        batch = client.get_workflow_handle(batch_workflow_id(batch_id), result_type=BatchCounts)
        counts = await asyncio.wait_for(batch.result(), PATIENCE_S)

    assert (counts.status, counts.released) == ("COMPLETED", 3)
    with Session(db) as session:
        rows = session.exec(select(Outcome).where(col(Outcome.id).in_(ids))).all()
        events = session.exec(select(OutboxEvent).where(OutboxEvent.type == "result.released"))
        released = {event.subject for event in events.all()}
    assert {row.status for row in rows} == {OutcomeStatus.RELEASED}
    assert released == set(ids)


async def test_an_sla_breaches_while_the_ordinary_queue_has_no_worker(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = ts_env.client
    seed_ten_day_sla(db)
    start = StartSlaInput(definition="ten_days", subject="result-1")
    async with build_worker(client, db, task_queue=task_queue, threads=4, queues="critical"):
        await start_sla(client, start, task_queue=task_queue)
        handle = client.get_workflow_handle_for(
            SlaWorkflow.run, sla_workflow_id("ten_days", "result-1")
        )
        await ts_env.sleep(timedelta(days=11))
        state = await asyncio.wait_for(handle.query(SlaWorkflow.state), PATIENCE_S)

    assert state is not None
    assert state.status == SlaStatus.BREACHED
