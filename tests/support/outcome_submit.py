"""Submitting a result through its workflow (update-with-start), as the API does."""

import uuid

from temporalio.client import Client

from domain.outcome import Grade, OutcomeKind
from tests.support.outcome_seed import Records
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_start import start_operation
from workflows.payloads.outcome import OutcomeSnapshot, StartOutcomeReleaseInput, SubmitOutcomeInput


async def submit_result(
    client: Client,
    records: Records,
    task_queue: str,
    *,
    grade: Grade = Grade.PASS,
    sampled: bool = False,
    update_id: str | None = None,
) -> OutcomeSnapshot:
    """Start a new result's workflow with its submission (by `assessor-1`)."""
    start = StartOutcomeReleaseInput(
        kind=OutcomeKind.RESULT,
        outcome_id=str(uuid.uuid4()),
        candidate_id=records.candidate_id,
        provider_id=records.provider_id,
        grade=grade,
    )
    return await client.execute_update_with_start_workflow(
        OutcomeReleaseWorkflow.submit,
        SubmitOutcomeInput(
            actor="assessor-1",
            candidate_id=records.candidate_id,
            element_id=records.element_id,
            grade=grade,
            sampled_for_qa=sampled,
        ),
        start_workflow_operation=start_operation(start, task_queue=task_queue),
        id=update_id,
    )
