"""Operator cancels: who asked (from the workflow's history), a refused cancel's record, and
the record of a run (check-list sync, release batch) an operator cancelled."""

from typing import Any

from sqlmodel import Session
from temporalio import activity

from activities.audit import audit_subject
from activities.base import ClientActivities, transaction_activity
from domain.cancellation import CANCELLED_BY_OPERATOR
from models.event import record_change
from workflows.payloads.cancellation import (
    CancelRequester,
    RecordRefusedCancelInput,
)
from workflows.payloads.checklist_sync import CancelChecklistSyncInput
from workflows.payloads.outcome import CancelBatchInput

# An operator's cancel of a run: who, the note, when.
OperatorCancel = CancelChecklistSyncInput | CancelBatchInput


class CancellationActivities(ClientActivities):
    """I/O every workflow's cancel handling shares (the client reads histories)."""

    @activity.defn
    async def find_cancel_requester(self) -> CancelRequester:
        """The identity on the calling run's cancel request: the workflow cannot read it."""
        info = activity.info()
        assert info.workflow_id is not None  # only workflows call it
        handle = self.client.get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)
        identity = ""
        async for event in handle.fetch_history_events():
            if event.HasField("workflow_execution_cancel_requested_event_attributes"):
                identity = event.workflow_execution_cancel_requested_event_attributes.identity
        return CancelRequester(identity=identity)

    @transaction_activity
    def record_refused_cancel(self, session: Session, command: RecordRefusedCancelInput) -> None:
        """An audit row: who asked to cancel, and why the subject goes on regardless."""
        audit_refused_cancel(session, command)


def audit_refused_cancel(session: Session, refused: RecordRefusedCancelInput) -> None:
    """Who asked to cancel the subject, and why it goes on regardless (once per instant)."""
    key = f"{refused.subject_kind}:{refused.subject_id}:cancel_refused:{refused.at.isoformat()}"
    detail = {"reason": CANCELLED_BY_OPERATOR, "note": refused.note, "why": refused.why}
    audit_subject(session, refused, "cancel_refused", key, detail)


def record_cancelled(
    session: Session,
    command: OperatorCancel,
    *,
    subject_kind: str,
    subject_id: str,
    counts: dict[str, Any],
    data: dict[str, Any],
) -> None:
    """A cancelled run's audit row (with the operator's note) and `{subject_kind}.cancelled`
    event, carrying what the run had done (`counts`)."""
    record_change(
        session,
        subject_kind=subject_kind,
        subject_id=subject_id,
        action="cancelled",
        at=command.at,
        actor=command.actor,
        key=f"{subject_kind}:{subject_id}:cancelled",
        detail={"reason": CANCELLED_BY_OPERATOR, **counts},
        data=data,
        audit_extra={"note": command.note},
    )
