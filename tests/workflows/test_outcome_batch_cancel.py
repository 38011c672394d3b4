"""A cancel of OutcomeReleaseBatchWorkflow skips what is left and gives its schedules up."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from api.services.outcome_release import batch_progress, start_batch
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMethod, ReleaseMode
from models.outcome import Outcome, OutcomeRef
from tests.support.operator import OPERATOR, audit_rows, events_of, operator_client, status_of
from tests.support.outcome_seed import Records, seed_records
from tests.support.outcome_submit import submit_result
from worker import build_worker
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.outcome_start import batch_workflow_id, workflow_id
from workflows.payloads.outcome import (
    BatchCounts,
    ReleaseNowInput,
)

RELEASER = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client with a worker on the test's queue."""
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _pending(client: Client, records: Records, task_queue: str) -> str:
    """A result pending release, with its own workflow."""
    submitted = await submit_result(client, records, task_queue)
    assert submitted.status == OutcomeStatus.PENDING_RELEASE
    return submitted.outcome_id


async def _scheduled_batch(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment, ids: list[str]
) -> WorkflowHandle[OutcomeReleaseBatchWorkflow, BatchCounts]:
    now = await ts_env.get_current_time()
    batch_id = await start_batch(
        db,
        client,
        RELEASER,
        [OutcomeRef(kind=OutcomeKind.RESULT, id=outcome_id) for outcome_id in ids],
        mode=ReleaseMode.SCHEDULED,
        release_at=now + timedelta(days=2),
        task_queue=task_queue,
        at=now,
    )
    handle = client.get_workflow_handle_for(
        OutcomeReleaseBatchWorkflow.run, batch_workflow_id(batch_id)
    )
    await ts_env.sleep(timedelta(days=1))  # scheduled, waiting on its instant
    with Session(db) as session:
        assert batch_progress(session, batch_id).scheduled == len(ids)
    return handle


def _outcomes(db: Engine, ids: list[str]) -> list[Outcome]:
    with Session(db) as session:
        return list(session.exec(select(Outcome).where(col(Outcome.id).in_(ids))).all())


async def test_a_cancel_skips_the_rest_and_drops_the_batchs_schedules(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    ids = [await _pending(client, records, task_queue) for _ in range(3)]
    handle = await _scheduled_batch(client, db, task_queue, ts_env, ids)

    await (await operator_client(client)).get_workflow_handle(handle.id).cancel()

    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    assert await status_of(handle) == Status.CANCELED
    batch_id = handle.id.removeprefix("outcome-release-batch-")
    with Session(db) as session:
        progress = batch_progress(session, batch_id)
    assert (progress.status, progress.skipped, progress.scheduled, progress.released) == (
        "CANCELLED",
        3,
        0,
        0,
    )
    assert progress.skipped_reasons == {"cancelled by an operator": 3}
    [audit] = audit_rows(db, batch_id, "cancelled")
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
    assert len(events_of(db, "release_batch.cancelled")) == 1
    assert len(events_of(db, "result.release_unscheduled")) == 3
    await ts_env.sleep(timedelta(days=3))  # past the instant: nothing is released
    rows = _outcomes(db, ids)
    assert {(o.status, o.scheduled_release_at, o.schedule_owner) for o in rows} == {
        (OutcomeStatus.PENDING_RELEASE.value, None, None)
    }


async def test_after_the_cancel_each_outcome_can_still_be_released(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    records = seed_records(db, auto_release=False)
    ids = [await _pending(client, records, task_queue) for _ in range(2)]
    handle = await _scheduled_batch(client, db, task_queue, ts_env, ids)
    await (await operator_client(client)).get_workflow_handle(handle.id).cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    outcome = client.get_workflow_handle_for(
        OutcomeReleaseWorkflow.run, workflow_id(OutcomeKind.RESULT, ids[0])
    )
    released = await outcome.execute_update(
        OutcomeReleaseWorkflow.release_now, ReleaseNowInput(actor="releaser-1")
    )

    assert (released.status, released.release_method) == (
        OutcomeStatus.RELEASED,
        ReleaseMethod.MANUAL,
    )
    assert (await outcome.result()).status == OutcomeStatus.RELEASED
