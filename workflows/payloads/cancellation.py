"""Payloads of the operator-cancel steps every workflow shares."""

from datetime import datetime

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


FIND_CANCEL_REQUESTER = "find_cancel_requester"
RECORD_REFUSED_CANCEL = "record_refused_cancel"
