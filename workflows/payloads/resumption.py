"""Payloads of a workflow restarted by `cli.py reconcile` from what PostgreSQL holds."""

from datetime import datetime

from temporalio import activity

from workflows.payloads.common import Payload

RECONCILE = "reconcile"


class Resumption(Payload):
    """Set on a start input when reconcile restarts the workflow of a case still open."""

    found: str  # what became of the previous run: TERMINATED, NOT_FOUND (deleted), ...
    actor: str = RECONCILE


class RecordResumptionInput(Payload):
    """Activity input: load the case (where the workflow needs it) and audit the restart."""

    subject_kind: str
    subject_id: str
    workflow_id: str
    run_id: str
    found: str
    actor: str
    at: datetime


def resumption_key(workflow_id: str, run_id: str | None) -> str:
    """The audit row's key of one restarted run (reconcile waits for it to appear)."""
    return f"resumed:{workflow_id}:{run_id}"


# Activity signatures for workflows to call (the worker runs the methods of the same names in
# activities/; tests/workflows/test_activity_signatures.py keeps the two in step). Saved
# histories hold these names: never rename one.


@activity.defn(name="record_resumption")
async def record_resumption(command: RecordResumptionInput) -> None:
    raise NotImplementedError
