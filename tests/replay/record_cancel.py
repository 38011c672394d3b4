"""Histories of operator cancels (patch `operator-cancel`): an SLA stopped CANCELLED, an
outcome whose own schedule is dropped (it goes on and is released), and a scheduled batch
cancelled while it waits for its instant."""

import contextlib
from datetime import timedelta

from sqlmodel import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter

from api.services.outcome_release import start_batch
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMode
from models.outcome import OutcomeRef
from models.sla import SlaDefinition
from tests.replay.record_outcome import RELEASER, _submit
from tests.replay.record_sla import DAY, DEFINITION
from tests.replay.recording import Recording, history_json, recording
from tests.support.operator import audit_rows, eventually
from tests.support.outcome_seed import seed_records
from tests.support.seed import T0
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.outcome_start import batch_workflow_id, workflow_id
from workflows.payloads.outcome import ReleaseNowInput, ScheduleReleaseInput
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

OPERATOR = "ops-jane@casework"


async def _operator(rec: Recording) -> Client:
    return await Client.connect(
        rec.client.service_client.config.target_host,
        identity=OPERATOR,
        data_converter=pydantic_data_converter,
    )


async def record_sla_operator_cancel(database_url: str) -> str:
    """Ten days: six days running (the 50% warning fires), then an operator cancels it."""
    async with recording(database_url) as rec:
        with Session(rec.engine) as session, session.begin():
            session.add(
                SlaDefinition(
                    code=DEFINITION,
                    version=1,
                    name="Ten days (replay)",
                    start_event="a",
                    stop_event="b",
                    pause_rule="candidate_inactive",
                    goal_s=int((10 * DAY).total_seconds()),
                    warning_fractions=[0.5, 0.75],
                    published_at=T0,
                )
            )
        handle = await rec.client.start_workflow(
            SlaWorkflow.run,
            StartSlaInput(definition=DEFINITION, subject="result-replay"),
            id=sla_workflow_id(DEFINITION, "result-replay"),
            task_queue=rec.queue,
        )
        await rec.env.sleep(DAY * 6)
        await (await _operator(rec)).get_workflow_handle(handle.id).cancel()
        with contextlib.suppress(WorkflowFailureError):
            await handle.result()
        return await history_json(handle)


async def record_outcome_release_operator_cancel(database_url: str) -> str:
    """Pending, scheduled 30 days ahead; an operator's cancel drops the schedule; released
    now a day later."""
    async with recording(database_url) as rec:
        records = seed_records(rec.engine, auto_release=False)
        submitted = await _submit(rec, records, sampled=False)
        assert submitted.status == OutcomeStatus.PENDING_RELEASE, submitted
        handle = rec.client.get_workflow_handle_for(
            OutcomeReleaseWorkflow.run, workflow_id(OutcomeKind.RESULT, submitted.outcome_id)
        )
        now = await rec.env.get_current_time()
        await handle.execute_update(
            OutcomeReleaseWorkflow.schedule_release,
            ScheduleReleaseInput(actor="releaser-1", release_at=now + timedelta(days=30)),
        )
        await (await _operator(rec)).get_workflow_handle(handle.id).cancel()
        await eventually(
            lambda: audit_rows(rec.engine, submitted.outcome_id, "release_unscheduled")
        )
        await rec.env.sleep(DAY)
        await handle.execute_update(
            OutcomeReleaseWorkflow.release_now, ReleaseNowInput(actor="releaser-1")
        )
        released = await handle.result()
        assert released.status == OutcomeStatus.RELEASED, released
        return await history_json(handle)


async def record_outcome_batch_operator_cancel(database_url: str) -> str:
    """Two pending results scheduled by a batch two days ahead; cancelled on day one."""
    async with recording(database_url, threads=4) as rec:
        records = seed_records(rec.engine, auto_release=False)
        outcomes = [await _submit(rec, records, sampled=False) for _ in range(2)]
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
        await rec.env.sleep(DAY)
        await (await _operator(rec)).get_workflow_handle(batch.id).cancel()
        with contextlib.suppress(WorkflowFailureError):
            await batch.result()
        return await history_json(batch)
