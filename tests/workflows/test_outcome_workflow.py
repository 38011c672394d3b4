"""OutcomeReleaseWorkflow under time skipping: scheduled release, moves, "now", QA paths."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.outcome import Grade, OutcomeStatus, ReleaseMethod
from models.action import Action
from models.event import AuditEntry, OutboxEvent
from models.outcome import Outcome
from tests.support.outcome_seed import Records, seed_records
from tests.support.outcome_submit import submit_result
from worker import build_worker
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.outcome import (
    AmendOutcomeInput,
    OutcomeSnapshot,
    QaSignoffInput,
    ReleaseNowInput,
    ScheduleReleaseInput,
)

Handle = WorkflowHandle[OutcomeReleaseWorkflow, OutcomeSnapshot]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client with a worker on the test's queue."""
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _submit(
    client: Client, records: Records, task_queue: str, **options: Any
) -> tuple[Handle, OutcomeSnapshot]:
    """A result submitted (`grade`, `sampled` as for submit_result), and its handle."""
    snapshot = await submit_result(client, records, task_queue, update_id="submit", **options)
    workflow_id = f"result-{snapshot.outcome_id}"
    return client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, workflow_id), snapshot


def _releases(db: Engine, outcome_id: str) -> list[AuditEntry]:
    with Session(db) as session:
        return list(
            session.exec(
                select(AuditEntry).where(
                    AuditEntry.subject_id == outcome_id, AuditEntry.action == "released"
                )
            ).all()
        )


def _row(db: Engine, outcome_id: str) -> Outcome:
    with Session(db) as session:
        outcome = session.get(Outcome, outcome_id)
        assert outcome is not None
        return outcome


async def _finished(handle: Handle) -> bool:
    """True once the workflow has completed (the outcome is released)."""
    history = await handle.fetch_history()
    return history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def _timer_events(handle: Handle) -> list[EventType.ValueType]:
    history = await handle.fetch_history()
    wanted = {EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_TIMER_FIRED}
    wanted.add(EventType.EVENT_TYPE_TIMER_CANCELED)
    return [event.event_type for event in history.events if event.event_type in wanted]


async def test_a_release_scheduled_30_days_ahead_fires_exactly_once(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await _submit(client, records, task_queue)
    assert submitted.status == OutcomeStatus.PENDING_RELEASE
    release_at = (await ts_env.get_current_time()) + timedelta(days=30)

    await handle.execute_update(
        OutcomeReleaseWorkflow.schedule_release,
        ScheduleReleaseInput(actor="releaser-1", release_at=release_at),
    )
    await ts_env.sleep(timedelta(days=29))
    assert _row(db, submitted.outcome_id).released_at is None

    await ts_env.sleep(timedelta(days=5))

    row = _row(db, submitted.outcome_id)
    assert await _finished(handle)
    assert row.release_method == ReleaseMethod.SCHEDULED.value
    assert row.released_at is not None
    assert row.released_at >= release_at
    assert len(_releases(db, submitted.outcome_id)) == 1
    assert await _timer_events(handle) == [
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_FIRED,
    ]
    with Session(db) as session:
        events = session.exec(
            select(OutboxEvent.type).where(OutboxEvent.subject == submitted.outcome_id)
        ).all()
        action = session.exec(select(Action)).one()
    assert events.count("result.released") == 1
    assert action.status == "DONE"


async def test_rescheduling_moves_the_release(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await _submit(client, records, task_queue)
    now = await ts_env.get_current_time()
    first, moved = now + timedelta(days=30), now + timedelta(days=40)

    for release_at in (first, moved):
        await handle.execute_update(
            OutcomeReleaseWorkflow.schedule_release,
            ScheduleReleaseInput(actor="releaser-1", release_at=release_at),
        )
    await ts_env.sleep(timedelta(days=35))
    assert _row(db, submitted.outcome_id).released_at is None  # the first instant passed

    await ts_env.sleep(timedelta(days=6))
    row = _row(db, submitted.outcome_id)
    assert await _finished(handle)
    assert row.released_at is not None
    assert row.released_at >= moved
    assert row.scheduled_release_at == moved
    assert len(_releases(db, submitted.outcome_id)) == 1
    assert await _timer_events(handle) == [
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_CANCELED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_FIRED,
    ]


async def test_now_after_scheduling_cancels_the_timer(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await _submit(client, records, task_queue)
    release_at = (await ts_env.get_current_time()) + timedelta(days=30)
    await handle.execute_update(
        OutcomeReleaseWorkflow.schedule_release,
        ScheduleReleaseInput(actor="releaser-1", release_at=release_at),
    )

    released = await handle.execute_update(
        OutcomeReleaseWorkflow.release_now, ReleaseNowInput(actor="releaser-1")
    )
    await ts_env.sleep(timedelta(days=31))
    assert await _finished(handle)

    assert released.status == OutcomeStatus.RELEASED
    assert released.release_method == ReleaseMethod.MANUAL
    assert len(_releases(db, submitted.outcome_id)) == 1
    assert _row(db, submitted.outcome_id).release_method == ReleaseMethod.MANUAL.value
    assert await _timer_events(handle) == [
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_CANCELED,
    ]


async def test_a_timer_finds_the_outcome_already_released_and_does_nothing(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    """Released behind the workflow's back (e.g. a batch): the timer re-checks, writes nothing."""
    records = seed_records(db, auto_release=False)
    handle, submitted = await _submit(client, records, task_queue)
    release_at = (await ts_env.get_current_time()) + timedelta(days=2)
    await handle.execute_update(
        OutcomeReleaseWorkflow.schedule_release,
        ScheduleReleaseInput(actor="releaser-1", release_at=release_at),
    )
    with Session(db) as session, session.begin():
        outcome = session.get(Outcome, submitted.outcome_id)
        assert outcome is not None
        outcome.schedule_owner = "batch:other"
        session.add(outcome)

    await ts_env.sleep(timedelta(days=3))

    assert _row(db, submitted.outcome_id).released_at is None
    assert _releases(db, submitted.outcome_id) == []
    state = await handle.query(OutcomeReleaseWorkflow.state)
    assert state.status == OutcomeStatus.PENDING_RELEASE
    assert state.own_schedule is False


async def test_qa_failure_goes_back_for_amendment_then_release_with_qa(
    client: Client, db: Engine, task_queue: str
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await _submit(client, records, task_queue, sampled=True)
    assert submitted.status == OutcomeStatus.IN_QA

    failed = await handle.execute_update(
        OutcomeReleaseWorkflow.qa_signoff, QaSignoffInput(actor="qa-1", passed=False)
    )
    amended = await handle.execute_update(
        OutcomeReleaseWorkflow.amend, AmendOutcomeInput(actor="assessor-1", grade=Grade.MERIT)
    )
    released = await handle.execute_update(
        OutcomeReleaseWorkflow.qa_signoff,
        QaSignoffInput(actor="qa-1", passed=True, release_with_qa=True),
    )

    assert failed.status == OutcomeStatus.AMENDMENT_REQUIRED
    assert amended.status == OutcomeStatus.IN_QA
    assert amended.amendments == 1
    assert released.status == OutcomeStatus.RELEASED
    assert released.release_method == ReleaseMethod.WITH_QA
    assert released.grade == Grade.MERIT
    assert await _finished(handle)
    with Session(db) as session:
        actions = session.exec(select(col(AuditEntry.action)).order_by(col(AuditEntry.id))).all()
    assert actions == ["submitted", "qa_failed", "amended", "qa_passed", "released"]
