"""A restarted workflow's first step: load its case and audit the restart (one activity)."""

from temporalio import workflow

from workflows.payloads import resumption as payloads
from workflows.payloads.resumption import RecordResumptionInput, Resumption
from workflows.refusal import run_recording


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


async def record_resumption(resumed: Resumption, *, subject_kind: str, subject_id: str) -> None:
    """Audit the restart (for workflows whose own first activities reload their case)."""
    command = resumption_input(resumed, subject_kind=subject_kind, subject_id=subject_id)
    await run_recording(payloads.record_resumption, command)
