"""SLAs, inductions and bulk releases restarted by reconcile go on from what PostgreSQL
stores: an SLA's remaining time and a pause it missed, a reminder sent or due, a batch's
instant (time-skipping server; each case is checked by its workflow id)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.services import outcome_release as releases
from api.services.induction import workflow_id as induction_workflow_id
from api.services.reconcile import Problem, check, repair
from api.services.sla import start_sla
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMethod, ReleaseMode
from models.candidate import Candidate
from models.event import OutboxEvent
from models.outcome import Outcome, OutcomeRef, ReleaseBatch
from models.sla import SlaInstance, log_of
from tests.support.outcome_seed import seed_records
from tests.support.seed import seed_ten_day_sla
from tests.workflows.test_induction_workflow import REMINDER, _claim, _school_report
from tests.workflows.test_outcome_workflow import _submit as submit_outcome
from worker import build_worker
from workflows.induction import InductionRegistrationWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_start import batch_workflow_id
from workflows.payloads.outcome import ReleaseNowInput
from workflows.payloads.sla import StartSlaInput, sla_workflow_id

DAY = timedelta(days=1)
RELEASER = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client, a worker, and a ten-day SLA definition warning at 50% and 75%."""
    seed_ten_day_sla(db)
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) until a state change an activity writes; never a duration."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def _repair(env: WorkflowEnvironment, db: Engine, workflow_id: str, task_queue: str) -> str:
    """Terminate the running workflow, then check and repair it; what repair did."""
    await env.client.get_workflow_handle(workflow_id).terminate(reason="an operator")
    return await _repaired(env, db, workflow_id, task_queue)


async def _repaired(env: WorkflowEnvironment, db: Engine, workflow_id: str, task_queue: str) -> str:
    found = await check(db, env.client, workflow_id)
    assert found is not None
    assert found.problem == Problem.NOT_RUNNING
    [repaired] = await repair(db, env.client, [found], task_queue=task_queue)
    assert repaired.repaired, repaired.action
    assert "resumed from the database" in repaired.action
    return repaired.action


def _sla(db: Engine, instance_id: str) -> SlaInstance | None:
    with Session(db) as session:
        return session.get(SlaInstance, instance_id)


def _events(db: Engine, kind: str) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxEvent).where(OutboxEvent.type == kind).order_by(col(OutboxEvent.id))
            ).all()
        )


async def _timed(client: Client, task_queue: str, db: Engine, candidate_id: str | None) -> str:
    subject = str(uuid.uuid4())
    start = StartSlaInput(definition="ten_days", subject=subject, candidate_id=candidate_id)
    await start_sla(client, start, task_queue=task_queue)
    instance_id = sla_workflow_id("ten_days", subject)
    await _until(lambda: _sla(db, instance_id) is not None)
    return instance_id


async def test_a_resumed_sla_breaches_when_its_running_time_reaches_the_goal(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    instance_id = await _timed(client, task_queue, db, None)
    await ts_env.sleep(6 * DAY)  # the 50% warning fell due on day 5
    assert [e.data["fraction"] for e in _events(db, "sla.warning")] == [0.5]

    await client.get_workflow_handle(instance_id).terminate(reason="an operator")
    await ts_env.sleep(2 * DAY)  # gone on day 7.5, when the 75% warning fell due
    await _repaired(ts_env, db, instance_id, task_queue)
    await _until(lambda: len(_events(db, "sla.warning")) == 2)  # due already: at once
    await ts_env.sleep(3 * DAY)  # day 10 + a bit: the goal is reached

    assert [e.data["fraction"] for e in _events(db, "sla.warning")] == [0.5, 0.75]
    sla = _sla(db, instance_id)
    assert sla is not None
    assert sla.breached_at is not None
    assert timedelta(0) <= sla.breached_at - sla.started_at - 10 * DAY < timedelta(minutes=1)


async def test_a_resumed_sla_takes_the_pause_it_missed_and_the_goal_moves_by_it(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db)
    instance_id = await _timed(client, task_queue, db, records.candidate_id)
    await ts_env.sleep(2 * DAY)
    await client.get_workflow_handle(instance_id).terminate(reason="an operator")
    with Session(db) as session, session.begin():  # its pause signal found no workflow
        session.execute(
            update(Candidate)
            .where(col(Candidate.id) == records.candidate_id)
            .values(status="BACK_INTO_LEARNING")
        )

    action = await _repaired(ts_env, db, instance_id, task_queue)
    await _until(lambda: getattr(_sla(db, instance_id), "status", None) == "PAUSED")

    assert "with pause" in action
    with Session(db) as session:
        assert [e.kind.value for e in log_of(session, instance_id)] == ["START", "PAUSE"]
    await ts_env.sleep(20 * DAY)
    assert getattr(_sla(db, instance_id), "breached_at", None) is None  # paused: no time runs


async def test_a_resumed_induction_keeps_its_sent_reminder_and_takes_a_claim(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    recorded = await _school_report(client, task_queue)
    trn = recorded.snapshot.trn
    await ts_env.sleep(31 * DAY)  # reminded on day 30
    assert len(_events(db, REMINDER)) == 1

    await _repair(ts_env, db, induction_workflow_id(trn), task_queue)
    await ts_env.sleep(40 * DAY)
    handle = client.get_workflow_handle_for(
        InductionRegistrationWorkflow.run, induction_workflow_id(trn)
    )
    claimed = await handle.execute_update(InductionRegistrationWorkflow.ab_claim, _claim("ab-1"))

    history = await handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled[0] == "resume_induction"
    assert "record_ab_claim_reminder" not in scheduled  # it knows it reminded for this wait
    assert len(_events(db, REMINDER)) == 1
    assert claimed.snapshot.claimed_by == "ab-1"


async def test_a_reminder_that_fell_due_while_the_induction_was_gone_is_sent_at_once(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    recorded = await _school_report(client, task_queue)
    workflow_id = induction_workflow_id(recorded.snapshot.trn)
    await client.get_workflow_handle(workflow_id).terminate(reason="an operator")
    await ts_env.sleep(35 * DAY)

    await _repaired(ts_env, db, workflow_id, task_queue)
    await _until(lambda: len(_events(db, REMINDER)) == 1)


def _batch(db: Engine, batch_id: str) -> ReleaseBatch:
    with Session(db) as session:
        found = session.get(ReleaseBatch, batch_id)
        assert found is not None
        return found


async def test_a_resumed_batch_releases_at_its_stored_instant(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    submitted = [(await submit_outcome(client, records, task_queue))[1] for _ in range(2)]
    release_at = await ts_env.get_current_time() + 2 * DAY
    batch_id = await releases.start_batch(
        db,
        client,
        RELEASER,
        [OutcomeRef(kind=OutcomeKind.RESULT, id=s.outcome_id) for s in submitted],
        mode=ReleaseMode.SCHEDULED,
        release_at=release_at,
        task_queue=task_queue,
        at=await ts_env.get_current_time(),
    )
    await _until(lambda: _batch(db, batch_id).status == "SCHEDULED")

    await _repair(ts_env, db, batch_workflow_id(batch_id), task_queue)
    assert _batch(db, batch_id).status == "SCHEDULED"
    await ts_env.sleep(2 * DAY + timedelta(hours=1))
    await client.get_workflow_handle(batch_workflow_id(batch_id)).result()

    assert _batch(db, batch_id).status == "COMPLETED"
    with Session(db) as session:
        outcomes = session.exec(
            select(Outcome).where(col(Outcome.id).in_([s.outcome_id for s in submitted]))
        ).all()
    assert {(o.status, o.release_method) for o in outcomes} == {
        (OutcomeStatus.RELEASED.value, ReleaseMethod.SCHEDULED.value)
    }
    for outcome in outcomes:
        assert outcome.released_at is not None
        assert timedelta(0) <= outcome.released_at - release_at < timedelta(minutes=1)
        handle = client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, f"result-{outcome.id}")
        assert (await handle.result()).status == OutcomeStatus.RELEASED


async def test_a_resumed_sla_whose_release_happened_while_it_was_gone_stops_at_once(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await submit_outcome(client, records, task_queue)
    instance_id = sla_workflow_id("result_complete_to_release", submitted.outcome_id)
    await _until(lambda: _sla(db, instance_id) is not None)
    await client.get_workflow_handle(instance_id).terminate(reason="an operator")
    await handle.execute_update("release_now", ReleaseNowInput(actor="releaser-1"))
    assert getattr(_sla(db, instance_id), "stopped_at", 0) is None  # its stop found no workflow

    action = await _repaired(ts_env, db, instance_id, task_queue)
    await _until(lambda: getattr(_sla(db, instance_id), "status", None) == "MET")

    assert "with stop" in action
    with Session(db) as session:
        assert [e.kind.value for e in log_of(session, instance_id)] == ["START", "STOP"]
