"""InductionRegistrationWorkflow under the time-skipping server: the AB-claim reminder, races."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.services.induction import start_operation, workflow_id
from domain.induction import ProgrammeType
from models.action import Action
from models.event import OutboxEvent
from tests.support.induction import claim_input
from worker import build_worker
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.induction import (
    AbClaimInput,
    AbReleaseInput,
    InductionRecorded,
    SchoolReportInput,
)

TRN = "7654321"
REMINDER = "induction.ab_claim_reminder"


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client with a worker on the test's own queue."""
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _school_report(
    client: Client, task_queue: str, *, reminder_days: int | None = None
) -> InductionRecorded:
    return await client.execute_update_with_start_workflow(
        InductionRegistrationWorkflow.school_report,
        SchoolReportInput(
            actor="sam",
            school_id="school-1",
            appropriate_body_id="ab-1",
            programme_type=ProgrammeType.SCHOOL_LED,
            start_date=date(2025, 9, 1),
        ),
        start_workflow_operation=start_operation(
            TRN, task_queue=task_queue, reminder_days=reminder_days
        ),
    )


def _claim(ab: str) -> AbClaimInput:
    return claim_input(ab)


def _events(db: Engine, kind: str) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxEvent).where(OutboxEvent.type == kind).order_by(col(OutboxEvent.id))
            ).all()
        )


def _actions(db: Engine, kind: str) -> list[Action]:
    with Session(db) as session:
        return list(session.exec(select(Action).where(Action.kind == kind)).all())


async def test_no_claim_within_30_days_reminds_the_school_once(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    recorded = await _school_report(client, task_queue)
    reported_at = recorded.snapshot.unclaimed_since
    assert reported_at is not None

    await ts_env.sleep(timedelta(days=29))
    assert _events(db, REMINDER) == []
    await ts_env.sleep(timedelta(days=1, hours=1))

    [event] = _events(db, REMINDER)
    assert datetime.fromisoformat(event.data["due_at"]) == reported_at + timedelta(days=30)
    assert timedelta(days=30) <= event.occurred_at - reported_at < timedelta(days=30, minutes=1)
    assert event.data["school_id"] == "school-1"
    [action] = _actions(db, REMINDER)
    assert (action.role, action.org, action.status) == ("school", "school-1", "OPEN")
    await ts_env.sleep(timedelta(days=60))
    assert len(_events(db, REMINDER)) == 1  # once per wait, not every 30 days

    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    await handle.execute_update(InductionRegistrationWorkflow.ab_claim, _claim("ab-1"))
    assert [a.status for a in _actions(db, REMINDER)] == ["DONE"]


async def test_a_claim_before_the_deadline_cancels_the_reminder_and_a_release_rearms_it(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    await _school_report(client, task_queue)
    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    await ts_env.sleep(timedelta(days=20))

    await handle.execute_update(InductionRegistrationWorkflow.ab_claim, _claim("ab-1"))
    await ts_env.sleep(timedelta(days=40))
    assert _events(db, REMINDER) == []
    assert (await handle.query(InductionRegistrationWorkflow.state)).claimed_by == "ab-1"

    released = await handle.execute_update(
        InductionRegistrationWorkflow.ab_release,
        AbReleaseInput(actor="ab-1-user", appropriate_body_id="ab-1"),
    )
    await ts_env.sleep(timedelta(days=31))
    [event] = _events(db, REMINDER)
    assert released.snapshot.unclaimed_since is not None
    due = released.snapshot.unclaimed_since + timedelta(days=30)
    assert datetime.fromisoformat(event.data["due_at"]) == due


async def test_the_reminder_delay_is_configurable(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    await _school_report(client, task_queue, reminder_days=5)

    await ts_env.sleep(timedelta(days=4))
    assert _events(db, REMINDER) == []
    await ts_env.sleep(timedelta(days=1, hours=1))
    assert len(_events(db, REMINDER)) == 1


async def test_two_abs_claiming_at_once_exactly_one_wins(client: Client, task_queue: str) -> None:
    await _school_report(client, task_queue)
    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))

    results = await asyncio.gather(
        handle.execute_update(InductionRegistrationWorkflow.ab_claim, _claim("ab-1")),
        handle.execute_update(InductionRegistrationWorkflow.ab_claim, _claim("ab-2")),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, InductionRecorded)]
    lost = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(won) == 1
    assert len(lost) == 1
    cause = lost[0].cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Conflict"
    state = await handle.query(InductionRegistrationWorkflow.state)
    assert state.claimed_by == won[0].snapshot.claimed_by
    assert state.effective.appropriate_body_id.confirmed
