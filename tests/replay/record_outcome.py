"""Histories of OutcomeReleaseWorkflow (QA, a moved schedule, the timer's release) and of
OutcomeReleaseBatchWorkflow (three outcomes released at one scheduled instant), with the
history of one of those outcomes (finished by the batch's `released` signal)."""

from datetime import timedelta

from temporalio.client import WorkflowHandle

from api.services.outcome_release import start_batch
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMethod, ReleaseMode
from models.outcome import OutcomeRef
from tests.replay.recording import Recording, history_json, recording
from tests.support.outcome_seed import Records, seed_records
from tests.support.outcome_submit import submit_result
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.outcome_start import batch_workflow_id, workflow_id
from workflows.payloads.outcome import (
    BatchCounts,
    OutcomeSnapshot,
    QaSignoffInput,
    ScheduleReleaseInput,
)

BatchHandle = WorkflowHandle[OutcomeReleaseBatchWorkflow, BatchCounts]
OutcomeHandle = WorkflowHandle[OutcomeReleaseWorkflow, OutcomeSnapshot]
RELEASER = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))


async def _submit(rec: Recording, records: Records, *, sampled: bool) -> OutcomeSnapshot:
    """Submit a PASS result through its own workflow (started by the submission)."""
    return await submit_result(rec.client, records, rec.queue, sampled=sampled)


async def record_outcome_release_qa_rescheduled(database_url: str) -> str:
    """Sampled for QA, signed off into PENDING_RELEASE, scheduled 30 days ahead, moved to
    40 days (the first timer is cancelled), then the second timer fires and releases it."""
    async with recording(database_url) as rec:
        records = seed_records(rec.engine, auto_release=False)
        submitted = await _submit(rec, records, sampled=True)
        assert submitted.status == OutcomeStatus.IN_QA, submitted
        handle = rec.client.get_workflow_handle_for(
            OutcomeReleaseWorkflow.run, workflow_id(OutcomeKind.RESULT, submitted.outcome_id)
        )
        signed = await handle.execute_update(
            OutcomeReleaseWorkflow.qa_signoff, QaSignoffInput(actor="qa-1", passed=True)
        )
        assert signed.status == OutcomeStatus.PENDING_RELEASE, signed
        now = await rec.env.get_current_time()
        for days in (30, 40):
            await handle.execute_update(
                OutcomeReleaseWorkflow.schedule_release,
                ScheduleReleaseInput(actor="releaser-1", release_at=now + timedelta(days=days)),
            )
        # A handle got by id waits in real time: skip past the moved instant first.
        await rec.env.sleep(timedelta(days=41))
        released = await handle.result()
        assert released.status == OutcomeStatus.RELEASED, released
        assert released.release_method == ReleaseMethod.SCHEDULED, released
        return await history_json(handle)


async def _scheduled_batch(
    rec: Recording,
) -> tuple[BatchHandle, list[OutcomeHandle]]:
    """Three pending results (each with its own workflow) released by one batch at an
    instant two days ahead; the batch then signals each outcome's workflow, which finishes."""
    records = seed_records(rec.engine, auto_release=False)
    outcomes = [await _submit(rec, records, sampled=False) for _ in range(3)]
    assert {o.status for o in outcomes} == {OutcomeStatus.PENDING_RELEASE}, outcomes
    now = await rec.env.get_current_time()
    batch_id = await start_batch(
        rec.engine,
        rec.client,
        RELEASER,
        [OutcomeRef(kind=o.kind, id=o.outcome_id) for o in outcomes],
        mode=ReleaseMode.SCHEDULED,
        release_at=now + timedelta(days=2),
        task_queue=rec.queue,
        at=now,
    )
    batch = rec.client.get_workflow_handle_for(
        OutcomeReleaseBatchWorkflow.run, batch_workflow_id(batch_id)
    )
    # A handle got by id waits in real time: skip past the instant first.
    await rec.env.sleep(timedelta(days=3))
    counts = await batch.result()
    assert (counts.status, counts.released, counts.skipped) == ("COMPLETED", 3, 0), counts
    handles = [
        rec.client.get_workflow_handle_for(
            OutcomeReleaseWorkflow.run, workflow_id(o.kind, o.outcome_id)
        )
        for o in outcomes
    ]
    for handle in handles:
        finished = await handle.result()
        assert finished.release_method == ReleaseMethod.SCHEDULED, finished
    return batch, handles


async def record_outcome_batch_scheduled(database_url: str) -> str:
    """The batch's own history: schedule, its timer, one chunk, notify, close."""
    async with recording(database_url, threads=4) as rec:
        batch, _ = await _scheduled_batch(rec)
        return await history_json(batch)


async def record_outcome_release_by_batch(database_url: str) -> str:
    """An outcome's history when a batch releases it: the `released` signal ends it."""
    async with recording(database_url, threads=4) as rec:
        _, outcomes = await _scheduled_batch(rec)
        return await history_json(outcomes[0])
