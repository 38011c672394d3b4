"""A cancel of OutcomeReleaseWorkflow drops the outcome's own schedule, or is refused."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.testing import WorkflowEnvironment

from domain.outcome import Grade, OutcomeStatus, ReleaseMethod
from models.outcome import Outcome
from tests.support.operator import (
    OPERATOR,
    audit_rows,
    events_of,
    eventually,
    operator_client,
    status_of,
)
from tests.support.outcome_seed import Records, seed_records
from tests.support.outcome_submit import submit_result
from worker import build_worker
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.outcome import (
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
    client: Client, records: Records, task_queue: str, *, sampled: bool = False
) -> tuple[Handle, str]:
    submitted = await submit_result(
        client, records, task_queue, grade=Grade.MERIT, sampled=sampled, update_id="submit"
    )
    outcome_id = submitted.outcome_id
    return client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, f"result-{outcome_id}"), (
        outcome_id
    )


def _row(db: Engine, outcome_id: str) -> Outcome:
    with Session(db) as session:
        outcome = session.get(Outcome, outcome_id)
        assert outcome is not None
        return outcome


async def _cancel(client: Client, handle: Handle, reason: str = "") -> None:
    await (await operator_client(client)).get_workflow_handle(handle.id).cancel(reason=reason)


async def test_a_cancel_drops_the_own_schedule_and_the_outcome_stays_pending(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    handle, outcome_id = await _submit(client, seed_records(db, auto_release=False), task_queue)
    release_at = (await ts_env.get_current_time()) + timedelta(days=30)
    await handle.execute_update(
        OutcomeReleaseWorkflow.schedule_release,
        ScheduleReleaseInput(actor="releaser-1", release_at=release_at),
    )

    await _cancel(client, handle, reason="wrong release date")

    [audit] = await eventually(lambda: audit_rows(db, outcome_id, "release_unscheduled"))
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
    assert audit.detail["note"] == "wrong release date"
    [event] = events_of(db, "result.release_unscheduled")
    assert event.data["release_at"] == release_at.isoformat()
    assert "grade" not in event.data
    await ts_env.sleep(timedelta(days=35))  # past the dropped instant: nothing is released
    row = _row(db, outcome_id)
    assert (row.status, row.scheduled_release_at, row.schedule_owner) == (
        OutcomeStatus.PENDING_RELEASE,
        None,
        None,
    )
    assert await status_of(handle) == Status.RUNNING
    state = await handle.query(OutcomeReleaseWorkflow.state)
    assert (state.status, state.own_schedule) == (OutcomeStatus.PENDING_RELEASE, False)


async def test_after_the_cancel_a_release_can_be_scheduled_again_and_happens(
    client: Client, ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    handle, outcome_id = await _submit(client, seed_records(db, auto_release=False), task_queue)
    release_at = (await ts_env.get_current_time()) + timedelta(days=30)
    schedule = ScheduleReleaseInput(actor="releaser-1", release_at=release_at)
    await handle.execute_update(OutcomeReleaseWorkflow.schedule_release, schedule)
    await _cancel(client, handle)
    await eventually(lambda: audit_rows(db, outcome_id, "release_unscheduled"))

    await handle.execute_update(OutcomeReleaseWorkflow.schedule_release, schedule)  # same instant
    await ts_env.sleep(timedelta(days=31))

    result = await handle.result()
    assert (result.status, result.release_method) == (
        OutcomeStatus.RELEASED,
        ReleaseMethod.SCHEDULED,
    )
    assert await status_of(handle) == Status.COMPLETED
    assert len(audit_rows(db, outcome_id, "released")) == 1


async def test_a_cancel_of_an_outcome_in_qa_is_refused_and_recorded(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle, outcome_id = await _submit(client, seed_records(db), task_queue, sampled=True)

    await _cancel(client, handle)

    [audit] = await eventually(lambda: audit_rows(db, outcome_id, "cancel_refused"))
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
    assert "IN_QA" in audit.detail["why"]
    assert await status_of(handle) == Status.RUNNING
    passed = await handle.execute_update(
        OutcomeReleaseWorkflow.qa_signoff, QaSignoffInput(actor="qa-1", passed=True)
    )
    assert passed.status == OutcomeStatus.RELEASED  # the provider auto-releases
    assert (await handle.result()).status == OutcomeStatus.RELEASED


async def test_a_pending_outcome_without_a_schedule_refuses_and_can_still_be_released(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle, outcome_id = await _submit(client, seed_records(db, auto_release=False), task_queue)

    await _cancel(client, handle)
    await eventually(lambda: audit_rows(db, outcome_id, "cancel_refused"))

    released = await handle.execute_update(
        OutcomeReleaseWorkflow.release_now, ReleaseNowInput(actor="releaser-1")
    )
    assert released.status == OutcomeStatus.RELEASED
    assert (await handle.result()).status == OutcomeStatus.RELEASED
    assert _row(db, outcome_id).release_method == ReleaseMethod.MANUAL.value
