"""Workflows restarted by reconcile re-arm their timers from the instants PostgreSQL stores
(time-skipping server: it has no visibility, so each case is checked by its workflow id)."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.services.reconcile import Finding, Problem, check, repair
from domain.application import ApplicationStatus
from domain.outcome import OutcomeStatus, ReleaseMethod
from models.event import AuditEntry
from models.outcome import Outcome
from tests.support.outcome_seed import seed_records
from tests.support.seed import seed_reviewer, seed_template
from tests.workflows.test_outcome_workflow import _submit as submit_outcome
from tests.workflows.test_review_cycle_workflow import SINGLE_LEVEL, _events, _review_with_loq
from tests.workflows.test_review_cycle_workflow import _submitted as submitted_application
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.outcome import ScheduleReleaseInput

DAY = timedelta(days=1)


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client, a worker, a single-level template and one reviewer."""
    seed_template(db, stages=SINGLE_LEVEL)
    seed_reviewer(db, "rev-1")
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _terminated_then_repaired(
    env: WorkflowEnvironment, db: Engine, workflow_id: str, task_queue: str, *, gone_for: timedelta
) -> Finding:
    """Terminate the workflow, let `gone_for` pass, then check and repair it."""
    client = env.client
    await client.get_workflow_handle(workflow_id).terminate(reason="an operator")
    await env.sleep(gone_for)
    found = await check(db, client, workflow_id)
    assert found is not None
    assert (found.problem, found.workflow_state) == (Problem.NOT_RUNNING, "TERMINATED")
    [repaired] = await repair(db, client, [found], task_queue=task_queue)
    assert repaired.repaired, repaired.action
    assert repaired.action.endswith("resumed from the database"), repaired.action
    return repaired


async def test_a_resumed_loq_expires_at_its_stored_deadline_and_reminds_only_once_each(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    application_id, handle = await submitted_application(client, db, task_queue)
    await _review_with_loq(db, handle)
    deadline = (await handle.query(ApplicationReviewWorkflow.state)).loq_deadline_at
    assert deadline is not None
    await ts_env.sleep(36 * DAY)  # the 7-days-before reminder is sent on day 35
    assert len(_events(db, "application.loq_reminder")) == 1

    await _terminated_then_repaired(ts_env, db, handle.id, task_queue, gone_for=2 * DAY)

    resumed = client.get_workflow_handle_for(ApplicationReviewWorkflow.run, handle.id)
    assert len(_events(db, "application.loq_reminder")) == 1  # day 35's is not sent again
    await ts_env.sleep(3 * DAY + timedelta(hours=1))  # day 41: the 1-day-before reminder
    assert len(_events(db, "application.loq_reminder")) == 2
    assert (await resumed.query(ApplicationReviewWorkflow.state)).status == (
        ApplicationStatus.CHANGES_REQUIRED
    )
    await ts_env.sleep(DAY)  # past the stored deadline (a recomputed one would be day 80)
    result = await resumed.result()
    assert (result.status, result.outcome_reason) == (ApplicationStatus.COMPLETED, "LOQ_EXPIRED")
    [completed] = _events(db, "application.completed")
    assert timedelta(0) <= completed.occurred_at - deadline < timedelta(minutes=1)
    assert application_id == result.application_id


async def test_a_deadline_that_passed_while_the_workflow_was_gone_expires_at_once(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    _, handle = await submitted_application(client, db, task_queue)
    await _review_with_loq(db, handle)
    await ts_env.sleep(10 * DAY)

    await _terminated_then_repaired(ts_env, db, handle.id, task_queue, gone_for=40 * DAY)
    result = await client.get_workflow_handle_for(ApplicationReviewWorkflow.run, handle.id).result()

    assert (result.status, result.outcome_reason) == (ApplicationStatus.COMPLETED, "LOQ_EXPIRED")
    assert _events(db, "application.loq_reminder") == []  # their moments passed unseen


def _outcome(db: Engine, outcome_id: str) -> Outcome:
    with Session(db) as session:
        found = session.get(Outcome, outcome_id)
        assert found is not None
        return found


async def test_a_resumed_outcome_releases_at_its_stored_schedule(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await submit_outcome(client, records, task_queue)
    release_at = await ts_env.get_current_time() + 3 * DAY
    await handle.execute_update(
        "schedule_release", ScheduleReleaseInput(actor="releaser-1", release_at=release_at)
    )

    await _terminated_then_repaired(ts_env, db, handle.id, task_queue, gone_for=DAY)
    assert _outcome(db, submitted.outcome_id).status == OutcomeStatus.PENDING_RELEASE
    await ts_env.sleep(2 * DAY + timedelta(hours=1))

    released = _outcome(db, submitted.outcome_id)
    assert (released.status, released.release_method) == ("RELEASED", ReleaseMethod.SCHEDULED)
    assert released.released_at is not None
    assert timedelta(0) <= released.released_at - release_at < timedelta(minutes=1)
    resumed = client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, handle.id)
    assert (await resumed.result()).status == OutcomeStatus.RELEASED


async def test_a_schedule_that_passed_while_the_workflow_was_gone_releases_at_once(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    handle, submitted = await submit_outcome(client, records, task_queue)
    release_at = await ts_env.get_current_time() + DAY
    await handle.execute_update(
        "schedule_release", ScheduleReleaseInput(actor="releaser-1", release_at=release_at)
    )

    await _terminated_then_repaired(ts_env, db, handle.id, task_queue, gone_for=3 * DAY)
    await client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, handle.id).result()

    released = _outcome(db, submitted.outcome_id)
    with Session(db) as session:
        resumed = session.exec(
            select(AuditEntry).where(
                AuditEntry.subject_id == submitted.outcome_id,
                col(AuditEntry.action) == "workflow_resumed",
            )
        ).one()
    assert (resumed.actor, resumed.detail["status"]) == ("reconcile", "PENDING_RELEASE")
    assert released.release_method == ReleaseMethod.SCHEDULED
    assert released.released_at is not None
    assert timedelta(0) <= released.released_at - resumed.at < timedelta(minutes=1)
