"""Outcome activities: submission, QA sign-off, amendment, release now, own schedule,
an operator's cancel (drops the own schedule)."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from activities.base import EngineActivities, transaction_activity
from activities.cancellation import audit_refused_cancel
from activities.rows import inserted, row_from
from domain.cancellation import CANCELLED_BY_OPERATOR
from domain.errors import Conflict
from domain.outcome import (
    OutcomeStatus,
    ReleaseMethod,
    Step,
    cancel_refusal,
    ensure_allowed,
    ensure_future_release,
    is_active,
    on_qa_signoff,
    on_submission,
)
from models.action import ActionStatus, open_action, set_action_status
from models.candidate import Candidate, Provider, lock_candidate
from models.event import AuditEntry, Change
from models.outcome import OWN_SCHEDULE, Outcome, action_key, lock_outcome
from models.outcome_release import release_outcomes, take_schedule
from models.views import same_named, view_of
from workflows.payloads.cancellation import RecordRefusedCancelInput
from workflows.payloads.outcome import (
    CancelOutcomeScheduleInput,
    OutcomeSnapshot,
    RecordAmendmentInput,
    RecordOutcomeSubmissionInput,
    RecordQaSignoffInput,
    RecordReleaseInput,
    RecordScheduleInput,
)


class OutcomeActivities(EngineActivities):
    """I/O for OutcomeReleaseWorkflow: one transaction each, idempotent on a business key."""

    @transaction_activity
    def record_outcome_submission(
        self, session: Session, command: RecordOutcomeSubmissionInput
    ) -> OutcomeSnapshot:
        """Insert the outcome, then QA, release at once, or wait for release."""
        existing = session.get(Outcome, command.outcome_id, with_for_update=True)
        if existing is not None:  # a retry: already recorded
            return snapshot_of(existing)
        candidate, provider = _candidate_and_provider(session, command.candidate_id)
        step = on_submission(
            grade=command.grade,
            sampled_for_qa=command.sampled_for_qa,
            auto_release=provider.auto_release_outcomes,
        )
        outcome = inserted(
            session,
            row_from(  # kind, candidate, element, grade, sampled_for_qa
                Outcome,
                command,
                id=command.outcome_id,
                status=OutcomeStatus.IN_QA,
                submitted_by=command.actor,
                submitted_at=command.at,
                created_at=command.at,
                updated_at=command.at,
            ),
        )
        _record(session, outcome, command.actor, command.at, "submitted", round_=0)
        _take_step(session, outcome, candidate, step, command.actor, command.at)
        return _fresh(session, outcome)

    @transaction_activity
    def record_qa_signoff(self, session: Session, command: RecordQaSignoffInput) -> OutcomeSnapshot:
        """QA passed (complete) or failed (amendment required)."""
        outcome = lock_outcome(session, command.kind, command.outcome_id)
        action = "qa_passed" if command.passed else "qa_failed"
        if _recorded(session, outcome, action, command.round):  # a retry
            return snapshot_of(outcome)
        ensure_allowed("qa", outcome.status)
        candidate, provider = _candidate_and_provider(session, outcome.candidate_id)
        step = on_qa_signoff(
            passed=command.passed,
            release_with_qa=command.release_with_qa,
            auto_release=provider.auto_release_outcomes,
        )
        detail = {"release_with_qa": command.release_with_qa}
        _record(session, outcome, command.actor, command.at, action, command.round, detail)
        _take_step(session, outcome, candidate, step, command.actor, command.at)
        return _fresh(session, outcome)

    @transaction_activity
    def record_outcome_amendment(
        self, session: Session, command: RecordAmendmentInput
    ) -> OutcomeSnapshot:
        """The corrected grade goes back to QA (VOID: released at once)."""
        outcome = lock_outcome(session, command.kind, command.outcome_id)
        if outcome.amendments >= command.amendment:  # a retry
            return snapshot_of(outcome)
        ensure_allowed("amend", outcome.status)
        candidate, provider = _candidate_and_provider(session, outcome.candidate_id)
        outcome.grade = command.grade
        outcome.amendments = command.amendment
        step = on_submission(
            grade=command.grade,
            sampled_for_qa=True,
            auto_release=provider.auto_release_outcomes,
        )
        _record(session, outcome, command.actor, command.at, "amended", command.amendment)
        _take_step(session, outcome, candidate, step, command.actor, command.at)
        return _fresh(session, outcome)

    @transaction_activity
    def release_outcome(self, session: Session, command: RecordReleaseInput) -> OutcomeSnapshot:
        """Release now, or when the own timer fires (only if still pending on that schedule)."""
        outcome = lock_outcome(session, command.kind, command.outcome_id)
        timer = command.method == ReleaseMethod.SCHEDULED
        if outcome.released_at is not None:
            mine = outcome.release_method == command.method and (outcome.released_at == command.at)
            if timer or mine:  # the timer re-checks; a retry finds its own release
                return snapshot_of(outcome)
            raise Conflict(
                f"the outcome was already released ({outcome.release_method})", allowed=[]
            )
        if timer and outcome.status != OutcomeStatus.PENDING_RELEASE:
            return snapshot_of(outcome)
        ensure_allowed("release_now", outcome.status)
        release_outcomes(
            session,
            [outcome.id],
            **same_named(command, "method", "at", "actor"),
            schedule_owner=OWN_SCHEDULE if timer else None,
            scheduled_at=command.scheduled_at if timer else None,
        )
        return _fresh(session, outcome)

    @transaction_activity
    def schedule_outcome_release(
        self, session: Session, command: RecordScheduleInput
    ) -> OutcomeSnapshot:
        """Hold the outcome's own schedule at `release_at` (replacing any earlier one)."""
        outcome = lock_outcome(session, command.kind, command.outcome_id)
        if (
            outcome.schedule_owner == OWN_SCHEDULE
            and outcome.scheduled_release_at == command.release_at
            and outcome.status == OutcomeStatus.PENDING_RELEASE
        ):
            return snapshot_of(outcome)  # a retry, or the same instant again
        ensure_allowed("schedule_release", outcome.status)
        ensure_future_release(command.release_at, command.at)
        take_schedule(
            session,
            [outcome.id],
            owner=OWN_SCHEDULE,
            release_at=command.release_at,
            at=command.at,
        )
        detail = {"release_at": command.release_at.isoformat()}
        key = f"{outcome.kind}:{outcome.id}:scheduled:{command.release_at.isoformat()}"
        _audit_and_event(
            session, outcome, command.actor, command.at, "release_scheduled", key, detail
        )
        return _fresh(session, outcome)

    @transaction_activity
    def cancel_outcome_schedule(
        self, session: Session, command: CancelOutcomeScheduleInput
    ) -> OutcomeSnapshot:
        """An operator's cancel: drop the outcome's own scheduled release (it stays pending,
        its to-do open); anything else is refused, and why goes in the audit trail."""
        outcome = lock_outcome(session, command.kind, command.outcome_id)
        key = f"{outcome.kind}:{outcome.id}:unscheduled:{command.at.isoformat()}"
        if _keyed(session, key):  # a retry: this cancel dropped the schedule already
            return snapshot_of(outcome)
        why = cancel_refusal(
            outcome.status,
            own_schedule=outcome.schedule_owner == OWN_SCHEDULE,
            scheduled=outcome.scheduled_release_at is not None,
        )
        if why is not None:
            refused = view_of(
                RecordRefusedCancelInput,
                command,
                subject_kind=outcome.kind,
                subject_id=outcome.id,
                why=why,
            )
            audit_refused_cancel(session, refused)
            return snapshot_of(outcome)
        assert outcome.scheduled_release_at is not None
        dropped = outcome.scheduled_release_at.isoformat()
        outcome.scheduled_release_at = outcome.schedule_owner = None
        outcome.revision += 1
        outcome.updated_at = command.at
        session.add(outcome)
        detail = {"reason": CANCELLED_BY_OPERATOR, "release_at": dropped}
        _audit_and_event(
            session,
            outcome,
            command.actor,
            command.at,
            "release_unscheduled",
            key,
            detail,
            note=command.note,
        )
        return _fresh(session, outcome)


def snapshot_of(outcome: Outcome) -> OutcomeSnapshot:
    """What the workflow keeps of the row."""
    return view_of(
        OutcomeSnapshot,
        outcome,
        outcome_id=outcome.id,
        own_schedule=outcome.schedule_owner == OWN_SCHEDULE,
    )


def _fresh(session: Session, outcome: Outcome) -> OutcomeSnapshot:
    """The row after set-based writes in this transaction."""
    session.flush()
    session.refresh(outcome)
    return snapshot_of(outcome)


def _candidate_and_provider(session: Session, candidate_id: str) -> tuple[Candidate, Provider]:
    """The candidate (shared lock: a status change waits) and its provider's current setting."""
    candidate = lock_candidate(session, candidate_id, shared=True)
    provider = session.exec(
        select(Provider).where(Provider.id == candidate.provider_id).with_for_update(read=True)
    ).one()
    return candidate, provider


def _take_step(
    session: Session, outcome: Outcome, candidate: Candidate, step: Step, actor: str, at: datetime
) -> None:
    """Move to the step's status: QA, amendment, pending release (a to-do), or released."""
    outcome.revision += 1
    outcome.updated_at = at
    if step.status in (OutcomeStatus.IN_QA, OutcomeStatus.AMENDMENT_REQUIRED):
        outcome.status = step.status
        session.add(outcome)
        return
    outcome.completed_at = at
    outcome.status = OutcomeStatus.PENDING_RELEASE
    session.add(outcome)
    session.flush()
    if step.method is not None:
        release_outcomes(session, [outcome.id], method=step.method, at=at, actor=actor)
        return
    key = action_key(outcome.kind, outcome.id)
    open_action(
        session,
        key=key,
        kind=f"{outcome.kind}_pending_release",
        subject_kind=outcome.kind,
        subject_id=outcome.id,
        role="releaser",
        title=f"Release {outcome.kind} {outcome.id} of candidate {candidate.name}",
        at=at,
        detail={"candidate_id": candidate.id, "kind": outcome.kind},
    )
    if not is_active(candidate.status):
        set_action_status(session, key, ActionStatus.PAUSED, at)
    _record(session, outcome, actor, at, "pending_release", outcome.amendments)


def _recorded(session: Session, outcome: Outcome, action: str, round_: int) -> bool:
    return _keyed(session, f"{outcome.kind}:{outcome.id}:{action}:{round_}")


def _keyed(session: Session, key: str) -> bool:
    """True when an audit row with dedupe key `key` exists."""
    return (
        session.exec(select(AuditEntry.id).where(AuditEntry.dedupe_key == key)).first() is not None
    )


def _record(
    session: Session,
    outcome: Outcome,
    actor: str,
    at: datetime,
    action: str,
    round_: int,
    detail: dict[str, Any] | None = None,
) -> None:
    key = f"{outcome.kind}:{outcome.id}:{action}:{round_}"
    _audit_and_event(session, outcome, actor, at, action, key, detail or {})


def _audit_and_event(
    session: Session,
    outcome: Outcome,
    actor: str,
    at: datetime,
    action: str,
    key: str,
    detail: dict[str, Any],
    *,
    note: str | None = None,
) -> None:
    """An audit row and a `{kind}.{action}` event; neither carries the (withheld) grade,
    and an operator's `note` stays in the (internal) audit row."""
    Change(outcome.kind, outcome.id, action, actor, at, key).record(
        session,
        detail,
        data={
            "id": outcome.id,
            "kind": outcome.kind,
            "candidate_id": outcome.candidate_id,
            "element_id": outcome.element_id,
        },
        audit_extra={"note": note} if note else None,
    )
