"""Payloads of the operator-cancel steps every workflow shares."""

from datetime import datetime

from temporalio import activity

from workflows.payloads.common import Payload, signature


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


# Activity signatures (see `signature`): saved histories hold these names.
@activity.defn(name="find_cancel_requester")
async def find_cancel_requester() -> CancelRequester:
    raise NotImplementedError


record_refused_cancel = signature("record_refused_cancel", RecordRefusedCancelInput, type(None))
