"""InductionRegistrationWorkflow outcomes under time skipping: closing ends the run, a
RELEASED outcome keeps it waiting (and re-arms the reminder), refusals write nothing."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.services.induction import workflow_id
from domain.induction import InductionOutcome, InductionStatus
from models.event import OutboxEvent
from models.induction import Induction, InductionReport
from tests.support.induction import (
    FAILED,
    PASSED,
    RECORD_OUTCOME,
    RELEASED,
    claim_input,
    outcome_input,
    report_by_school,
)
from tests.support.operator import status_of
from worker import build_worker
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.induction import (
    InductionOutcomeInput,
    InductionSnapshot,
)

TRN = "7654323"
REMINDER = "induction.ab_claim_reminder"
Handle = WorkflowHandle[InductionRegistrationWorkflow, InductionSnapshot]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client with a worker on the test's own queue."""
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _claimed(client: Client, task_queue: str) -> Handle:
    """school-1 reports the teacher; ab-1 claims."""
    await report_by_school(client, TRN, task_queue)
    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    await handle.execute_update(InductionRegistrationWorkflow.ab_claim, claim_input("ab-1"))
    return handle


def _events(db: Engine, kind: str) -> list[OutboxEvent]:
    with Session(db) as session:
        query = select(OutboxEvent).where(OutboxEvent.type == kind)
        return list(session.exec(query.order_by(col(OutboxEvent.id))).all())


def _reports(db: Engine) -> int:
    with Session(db) as session:
        return len(session.exec(select(InductionReport)).all())


async def _refusal(handle: Handle, command: InductionOutcomeInput) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(RECORD_OUTCOME, command)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    return f"{cause.type}: {cause.message}"


@pytest.mark.parametrize("closing", [PASSED, FAILED])
async def test_a_closing_outcome_ends_the_workflow_and_no_reminder_follows(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment, closing: str
) -> None:
    handle = await _claimed(client, task_queue)

    recorded = await handle.execute_update(
        RECORD_OUTCOME, outcome_input("ab-1", InductionOutcome(closing))
    )

    assert (recorded.snapshot.status, recorded.snapshot.outcome) == ("CLOSED", closing)
    final = await handle.result()
    assert (final.status, final.outcome, final.claimed_by) == ("CLOSED", closing, "ab-1")
    assert await status_of(handle) == Status.COMPLETED
    [event] = _events(db, "induction.completed")
    assert (event.data["outcome"], event.data["completed_on"]) == (closing, "2026-01-15")
    with Session(db) as session:
        row = session.get(Induction, TRN)
        assert row is not None
        assert (row.status, row.outcome) == (InductionStatus.CLOSED, closing)
    await ts_env.sleep(timedelta(days=90))
    assert _events(db, REMINDER) == []


async def test_released_keeps_the_workflow_waiting_rearms_the_reminder_and_lets_another_claim(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _claimed(client, task_queue)

    released = await handle.execute_update(RECORD_OUTCOME, outcome_input("ab-1", RELEASED))

    snapshot = released.snapshot
    assert (snapshot.status, snapshot.outcome, snapshot.claimed_by) == ("OPEN", "RELEASED", None)
    assert snapshot.effective.appropriate_body_id.source == "school"
    assert snapshot.unclaimed_since is not None
    await ts_env.sleep(timedelta(days=31))
    [reminder] = _events(db, REMINDER)
    due = snapshot.unclaimed_since + timedelta(days=30)
    assert datetime.fromisoformat(reminder.data["due_at"]) == due
    assert await status_of(handle) == Status.RUNNING

    claim = InductionRegistrationWorkflow.ab_claim
    claimed = await handle.execute_update(claim, claim_input("ab-2"))
    assert (claimed.snapshot.claimed_by, claimed.snapshot.outcome) == ("ab-2", None)
    await handle.execute_update(RECORD_OUTCOME, outcome_input("ab-2", PASSED))
    assert (await handle.result()).outcome == "PASSED"
    outcomes = [e.data["outcome"] for e in _events(db, "induction.completed")]
    assert outcomes == ["RELEASED", "PASSED"]


async def test_refused_outcomes_name_the_reason_and_write_nothing(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle = await _claimed(client, task_queue)
    stored = _reports(db)
    today = datetime.now(UTC).date()

    other = await _refusal(handle, outcome_input("ab-2", PASSED))
    ahead = today + timedelta(days=3)
    future = await _refusal(handle, outcome_input("ab-1", PASSED, ahead))
    early = await _refusal(handle, outcome_input("ab-1", FAILED, date(2025, 8, 31)))

    assert other.startswith("Forbidden: appropriate body ab-2 does not hold")
    assert future.startswith(f"Invalid: completed_on {ahead} is in the future")
    assert early.startswith("Invalid: completed_on 2025-08-31 is before the induction started")
    assert _reports(db) == stored
    assert _events(db, "induction.completed") == []
    assert await status_of(handle) == Status.RUNNING


async def test_an_ab_that_released_the_teacher_cannot_then_record_anoutcome_input(
    client: Client, task_queue: str
) -> None:
    handle = await _claimed(client, task_queue)
    released = await handle.execute_update(RECORD_OUTCOME, outcome_input("ab-1", RELEASED))
    assert released.snapshot.claimed_by is None
    again = await _refusal(handle, outcome_input("ab-1", PASSED))
    assert again.startswith("Forbidden")  # ab-1 released it: it holds nothing now


async def test_a_report_that_reaches_temporal_after_the_close_is_late_and_the_new_run_ends(
    client: Client, db: Engine, task_queue: str
) -> None:
    handle = await _claimed(client, task_queue)
    await handle.execute_update(RECORD_OUTCOME, outcome_input("ab-1", FAILED))
    closed_run = (await handle.result()).revision

    # The API saw the induction open a moment ago: its update-with-start starts a new run.
    late = await report_by_school(client, TRN, task_queue)

    assert (late.snapshot.status, late.snapshot.outcome) == ("CLOSED", "FAILED")
    assert "induction_status" in late.snapshot.open_discrepancies
    assert late.snapshot.revision > closed_run
    rerun = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    assert (await rerun.result()).status == "CLOSED"
    assert await status_of(rerun) == Status.COMPLETED
    assert [e.data["outcome"] for e in _events(db, "induction.completed")] == ["FAILED"]
