"""Payloads of a workflow restarted by `cli.py reconcile` from what PostgreSQL holds."""

from datetime import datetime

from workflows.payloads.common import Payload, signature

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


# Activity signatures (see `signature`): saved histories hold these names.
record_resumption = signature("record_resumption", RecordResumptionInput, type(None))
