"""A restarted workflow's first step: load its case and audit the restart (one activity)."""

from typing import TypeVar

from temporalio import workflow

from workflows.payloads.resumption import RECORD_RESUMPTION, RecordResumptionInput, Resumption
from workflows.refusal import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, run_recording

R = TypeVar("R")


def resumption_input(
    resumed: Resumption, *, subject_kind: str, subject_id: str
) -> RecordResumptionInput:
    """The activity input naming this run (its id keys the audit row: one per restart)."""
    info = workflow.info()
    return RecordResumptionInput(
        subject_kind=subject_kind,
        subject_id=subject_id,
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        found=resumed.found,
        actor=resumed.actor,
        at=workflow.now(),
    )


async def resume(
    name: str, resumed: Resumption, result_type: type[R], *, subject_kind: str, subject_id: str
) -> R:
    """Run the kind's resume activity: the case as stored, with the restart audited."""
    command = resumption_input(resumed, subject_kind=subject_kind, subject_id=subject_id)
    return await run_recording(name, command, result_type)


async def record_resumption(resumed: Resumption, *, subject_kind: str, subject_id: str) -> None:
    """Audit the restart (for workflows whose own first activities reload their case)."""
    await workflow.execute_activity(
        RECORD_RESUMPTION,
        resumption_input(resumed, subject_kind=subject_kind, subject_id=subject_id),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
    )
