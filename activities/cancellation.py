"""Operator cancels: who asked (from the workflow's history), and a refused cancel's record."""

from sqlmodel import Session
from temporalio import activity

from activities.base import ClientActivities
from domain.cancellation import CANCELLED_BY_OPERATOR
from models.event import write_audit
from workflows.payloads.cancellation import (
    CancelRequester,
    RecordRefusedCancelInput,
)


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

    @activity.defn
    def record_refused_cancel(self, command: RecordRefusedCancelInput) -> None:
        """An audit row: who asked to cancel, and why the subject goes on regardless."""
        with Session(self.engine) as session, session.begin():
            write_audit(
                session,
                subject_kind=command.subject_kind,
                subject_id=command.subject_id,
                at=command.at,
                actor=command.actor,
                action="cancel_refused",
                key=f"{command.subject_kind}:{command.subject_id}:cancel_refused:"
                + command.at.isoformat(),
                detail={"reason": CANCELLED_BY_OPERATOR, "note": command.note, "why": command.why},
            )
