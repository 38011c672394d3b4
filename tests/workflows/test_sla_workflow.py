"""SlaWorkflow under the time-skipping server: pauses move the deadline; warnings and breach."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.outcome import CandidateStatus
from domain.sla import SlaStatus
from models.candidate import Candidate
from models.event import OutboxEvent
from models.sla import SlaInstance
from tests.support.outcome_seed import seed_records
from tests.support.seed import seed_ten_day_sla
from tests.support.sla_calendar import sla_worker
from workflows.payloads.sla import SlaState, StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DAY = timedelta(days=1)
Handle = WorkflowHandle[SlaWorkflow, SlaState]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """A ten-day definition and a worker for SLA workflows."""
    seed_ten_day_sla(db)
    async with sla_worker(ts_env.client, db, task_queue):
        yield ts_env.client


async def _start(client: Client, task_queue: str, candidate_id: str | None = None) -> Handle:
    return await client.start_workflow(
        SlaWorkflow.run,
        StartSlaInput(definition="ten_days", subject="result-1", candidate_id=candidate_id),
        id=sla_workflow_id("ten_days", "result-1"),
        task_queue=task_queue,
    )


def _set_candidate(db: Engine, candidate_id: str, status: CandidateStatus) -> None:
    with Session(db) as session, session.begin():
        candidate = session.get(Candidate, candidate_id)
        assert candidate is not None
        candidate.status = status  # what change_status commits before it signals


def _events(db: Engine) -> list[tuple[str, float]]:
    with Session(db) as session:
        rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()
    return [(row.type, row.data["elapsed_s"] / 86400) for row in rows]


def _instance(db: Engine) -> SlaInstance:
    with Session(db) as session:
        return session.exec(select(SlaInstance)).one()


async def test_a_pause_moves_warnings_and_the_breach_by_its_length(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _start(client, task_queue)
    await ts_env.sleep(DAY * 3)
    await handle.signal(SlaWorkflow.pause)
    await ts_env.sleep(DAY * 20)  # paused: no timer may fire
    assert _events(db) == []
    assert (await handle.query(SlaWorkflow.state)).status == SlaStatus.PAUSED  # type: ignore[union-attr]
    await handle.signal(SlaWorkflow.resume)

    await ts_env.sleep(DAY * 2 + timedelta(hours=1))  # day 25: 5 days running
    warnings = _events(db)
    assert [kind for kind, _ in warnings] == ["sla.warning"]
    assert warnings[0][1] == pytest.approx(5, abs=0.01)
    await ts_env.sleep(DAY * 2.5)  # day 27.5 + 1 h
    assert [e[0] for e in _events(db)] == ["sla.warning", "sla.warning"]
    await ts_env.sleep(DAY * 2.5)  # day 30 + 1 h: the breach, not at day 10

    kinds = _events(db)
    assert [k for k, _ in kinds] == ["sla.warning", "sla.warning", "sla.breached"]
    assert kinds[1][1] == pytest.approx(7.5, abs=0.01)
    assert kinds[2][1] == pytest.approx(10, abs=0.01)
    instance = _instance(db)
    assert instance.status == SlaStatus.BREACHED
    assert instance.breached_at is not None
    assert instance.breached_at - instance.started_at == pytest.approx(
        DAY * 30, abs=timedelta(minutes=5)
    )


async def test_stopping_before_the_goal_is_met_and_ends_the_workflow(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _start(client, task_queue)
    await ts_env.sleep(DAY * 6)  # past the first warning
    await handle.signal(SlaWorkflow.stop)

    result = await handle.result()

    assert result.status == SlaStatus.MET
    assert [row.kind for row in result.log] == ["START", "STOP"]
    assert [k for k, _ in _events(db)] == ["sla.warning"]
    instance = _instance(db)
    assert (instance.status, instance.stopped_at is not None) == (SlaStatus.MET, True)


async def test_repeated_pauses_and_a_stop_after_the_stop_record_nothing_twice(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _start(client, task_queue)
    await handle.signal(SlaWorkflow.pause)
    await handle.signal(SlaWorkflow.pause)
    await ts_env.sleep(DAY)
    await handle.signal(SlaWorkflow.stop)
    result = await handle.result()

    assert [row.kind for row in result.log] == ["START", "PAUSE", "STOP"]
    assert result.status == SlaStatus.MET


async def test_candidate_changed_follows_the_stored_status_however_often_it_is_sent(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    candidate_id = seed_records(db).candidate_id
    handle = await _start(client, task_queue, candidate_id)
    await handle.signal(SlaWorkflow.candidate_changed)  # still active: nothing to record
    await ts_env.sleep(DAY * 3)
    _set_candidate(db, candidate_id, CandidateStatus.RETAKE_REVIEW)
    for _ in range(3):
        await handle.signal(SlaWorkflow.candidate_changed)
    await ts_env.sleep(DAY * 20)  # paused: the 50% warning may not fire
    assert _events(db) == []
    assert _instance(db).status == SlaStatus.PAUSED

    _set_candidate(db, candidate_id, CandidateStatus.IN_ASSESSMENT)
    for _ in range(2):
        await handle.signal(SlaWorkflow.candidate_changed)
    await ts_env.sleep(DAY * 2 + timedelta(hours=1))  # 5 days running: the first warning

    warnings = _events(db)
    assert [kind for kind, _ in warnings] == ["sla.warning"]
    assert warnings[0][1] == pytest.approx(5, abs=0.01)
    await handle.signal(SlaWorkflow.stop)
    result = await handle.result()
    assert [row.kind for row in result.log] == ["START", "PAUSE", "RESUME", "STOP"]


async def test_a_stop_is_recorded_locally_and_ends_in_one_workflow_task_and_one_upsert(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle = await _start(client, task_queue)
    for _ in range(200):  # until it has opened (its activity done): the stop comes after
        if await handle.query(SlaWorkflow.state) is not None:
            break
        await asyncio.sleep(0.05)
    await handle.signal(SlaWorkflow.stop)
    await handle.result()

    kinds = [e.WhichOneof("attributes") for e in (await handle.fetch_history()).events]
    after = kinds[kinds.index("workflow_execution_signaled_event_attributes") :]
    assert "activity_task_scheduled_event_attributes" not in after, after
    assert "marker_recorded_event_attributes" in after, after  # the local activity's
    assert after.count("workflow_task_completed_event_attributes") == 1, after
    # The patch's marker (with its own upsert) is in the first task, not here.
    assert after.count("upsert_workflow_search_attributes_event_attributes") == 1, after
    assert _instance(db).status == SlaStatus.MET  # the local activity appended the STOP
