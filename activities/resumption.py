"""Resumption activities: a restarted workflow reloads its case and audits the restart."""

from typing import Any

from sqlmodel import Session, select

from activities.audit import audit_subject
from activities.base import EngineActivities, transaction_activity
from activities.case import lock_application, shape_of, snapshot, template_of
from activities.induction import reminder_key, snapshot_of
from activities.outcome import snapshot_of as outcome_snapshot
from domain.errors import NotFound
from domain.outcome import OutcomeKind
from models.action import Action
from models.induction import Induction
from models.outcome import lock_outcome
from workflows.payloads.application import SubmissionResult
from workflows.payloads.induction import InductionCarry
from workflows.payloads.outcome import ResumedOutcome
from workflows.payloads.resumption import (
    RecordResumptionInput,
    resumption_key,
)

RESUMED = "workflow_resumed"


class ResumptionActivities(EngineActivities):
    """I/O of a workflow that reconcile restarted: one transaction each, audited once per run."""

    @transaction_activity
    def record_resumption(self, session: Session, command: RecordResumptionInput) -> None:
        """Audit the restart of a workflow that reloads its case by its own activities."""
        audit_resumption(session, command, {})

    @transaction_activity
    def resume_application(
        self, session: Session, command: RecordResumptionInput
    ) -> SubmissionResult:
        """The application as stored (status, level, LOQ deadline, open assignments)."""
        application = lock_application(session, command.subject_id)
        audit_resumption(session, command, {"status": application.status})
        return SubmissionResult(
            snapshot=snapshot(session, application),
            shape=shape_of(template_of(session, application)),
        )

    @transaction_activity
    def resume_outcome(self, session: Session, command: RecordResumptionInput) -> ResumedOutcome:
        """The outcome as stored (status, its own schedule) and the element it grades."""
        outcome = lock_outcome(session, OutcomeKind(command.subject_kind), command.subject_id)
        audit_resumption(session, command, {"status": outcome.status})
        return ResumedOutcome(snapshot=outcome_snapshot(outcome), element_id=outcome.element_id)

    @transaction_activity
    def resume_induction(self, session: Session, command: RecordResumptionInput) -> InductionCarry:
        """The registration as stored, and whether the school was reminded for this wait."""
        induction = session.exec(
            select(Induction).where(Induction.trn == command.subject_id).with_for_update()
        ).one_or_none()
        if induction is None:
            raise NotFound(f"no induction for teacher {command.subject_id}")
        state = snapshot_of(session, induction)
        since = state.unclaimed_since
        reminded = since is not None and (
            session.exec(
                select(Action.id).where(Action.key == reminder_key(induction.trn, since))
            ).first()
            is not None
        )
        audit_resumption(session, command, {"claimed_by": state.claimed_by})
        return InductionCarry(snapshot=state, reminded_for=since if reminded else None)


def audit_resumption(
    session: Session, command: RecordResumptionInput, detail: dict[str, Any]
) -> None:
    """One audit row per restarted run (a retry of the activity writes nothing more)."""
    key = resumption_key(command.workflow_id, command.run_id)
    detail = {
        "workflow_id": command.workflow_id,
        "run_id": command.run_id,
        "found": command.found,
        **detail,
    }
    audit_subject(session, command, RESUMED, key, detail)
