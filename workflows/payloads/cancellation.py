"""Payloads of the operator-cancel steps every workflow shares."""

from datetime import datetime

from temporalio import activity

from workflows.payloads.common import Payload


class CancelRequester(Payload):
    """Activity result: the Temporal identity that requested the cancel ('' when unknown)."""

    identity: str


class RecordRefusedCancelInput(Payload):
    """Activity input: a cancel that `subject` refuses (it goes on), recorded with why."""

    subject_kind: str
    subject_id: str
    actor: str
    note: str | None
    why: str
    at: datetime


# Activity signatures for workflows to call (the worker runs the methods of the same names in
# activities/; tests/workflows/test_activity_signatures.py keeps the two in step). Saved
# histories hold these names: never rename one.


@activity.defn(name="find_cancel_requester")
async def find_cancel_requester() -> CancelRequester:
    raise NotImplementedError


@activity.defn(name="record_refused_cancel")
async def record_refused_cancel(command: RecordRefusedCancelInput) -> None:
    raise NotImplementedError
