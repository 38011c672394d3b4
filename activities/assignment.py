"""Assignment activities: claims, unassignment, and rows that follow the review grants."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from activities.base import EngineActivities, transaction_activity
from activities.case import (
    announce,
    audit,
    bump,
    case_change,
    lock_application,
    shape_of,
    snapshot,
    template_of,
)
from activities.case_levels import (
    add_assignment,
    allowed_for,
    clock_key,
    end_clock,
    granted_sections,
    open_assignment,
)
from domain.errors import Conflict
from domain.review import (
    AssignmentStatus,
    ReviewStatus,
)
from domain.review_deadline import ClockEvent, due_after
from domain.review_guards import OPEN_FOR_CLAIMS, ensure_can_claim, ensure_claims_open
from models.action import open_action
from models.application import Application
from models.review import Assignment, HeldSection, Review
from models.review_queries import held_by_others, review_of, seat_of
from models.views import same_named
from workflows.payloads.review import (
    CaseShape,
    CaseSnapshot,
    RecordAssignmentInput,
    RecordUnassignmentInput,
    SyncAssignmentsInput,
)


class AssignmentActivities(EngineActivities):
    """I/O for ApplicationReviewWorkflow's assignment transitions."""

    @transaction_activity
    def record_assignment(self, session: Session, command: RecordAssignmentInput) -> CaseSnapshot:
        """Hold the sections for the assignment (one row per held section, unique per level)."""
        application = lock_application(session, command.application_id)
        ensure_claims_open(application.status)
        assignment = open_assignment(session, application, command.assignment_id)
        seat = seat_of(application, assignment, review_of(session, assignment.id))
        ensure_can_claim(seat, command.actor, by_assigner=command.by_assigner)
        if set(command.sections) <= set(assignment.assigned_sections):
            return snapshot(session, application)  # a retry: already held
        shape = shape_of(template_of(session, application))
        sections = shape.sections_to_claim(
            assignment, command.sections, held_by_others(session, assignment)
        )
        try:
            with session.begin_nested():
                for section in sections:
                    session.add(
                        HeldSection(
                            section=section,
                            assignment_id=assignment.id,
                            **same_named(assignment, "application_id", "stage", "level"),
                        )
                    )
        except IntegrityError as error:
            raise Conflict("another reviewer took one of these sections first") from error
        assignment.status = AssignmentStatus.ASSIGNED
        assignment.assigned_sections = sorted({*assignment.assigned_sections, *sections})
        assignment.assigner_id = command.actor
        assignment.updated_at = command.at
        if seat.review_status == ReviewStatus.DISCONTINUED:  # read under the case's lock
            _revive_review(session, assignment, command.at)
        if seat.review_status in CLOCKED:  # a submitted review is not timed again
            clock = shape.stage(assignment.stage).clock()
            assignment.due_at = due_after(ClockEvent.TAKE, clock, assignment.due_at, command.at)
        session.add(assignment)
        action = "assigned" if command.by_assigner else "self_assigned"
        detail = {
            "assignment_id": assignment.id,
            "reviewer_id": assignment.reviewer_id,
            "stage": assignment.stage,
            "level": assignment.level,
            "sections": sections,
            "due_at": assignment.due_at.isoformat() if assignment.due_at else None,
        }
        _record(session, application, command, action, detail)
        return snapshot(session, application, shape)

    @transaction_activity
    def record_unassignment(
        self, session: Session, command: RecordUnassignmentInput
    ) -> CaseSnapshot:
        """Release the assignment's sections; its review becomes DISCONTINUED."""
        application = lock_application(session, command.application_id)
        ensure_claims_open(application.status)
        assignment = open_assignment(session, application, command.assignment_id)
        if assignment.status == AssignmentStatus.AVAILABLE:
            return snapshot(session, application)  # a retry, or nothing held
        detail = release_sections(session, assignment, ClockEvent.UNASSIGN, command.at)
        _record(session, application, command, "unassigned", detail)
        return snapshot(session, application, shape_of(template_of(session, application)))

    @transaction_activity
    def sync_assignments(self, session: Session, command: SyncAssignmentsInput) -> CaseSnapshot:
        """Untaken rows of the current level follow the review grants (add, limit, remove)."""
        application = lock_application(session, command.application_id)
        if application.status not in OPEN_FOR_CLAIMS or application.stage is None:
            return snapshot(session, application)
        shape = shape_of(template_of(session, application))
        stage, level = application.stage, application.level
        granted = granted_sections(session, application.template_code, stage, level)
        rows = session.exec(
            select(Assignment).where(
                Assignment.application_id == application.id,
                Assignment.stage == stage,
                Assignment.level == level,
            )
        ).all()
        changes = _follow_grants(session, application, shape, rows, granted, command.at)
        if changes:
            detail = {"stage": stage, "level": level, "changes": changes}
            _record(session, application, command, "assignments_synced", detail)
        return snapshot(session, application)


# Review statuses a reviewer's clock times (decision 0095): not yet submitted.
CLOCKED = frozenset({None, ReviewStatus.DRAFT, ReviewStatus.DISCONTINUED})


def release_sections(
    session: Session, assignment: Assignment, event: ClockEvent, at: datetime
) -> dict[str, object]:
    """The assignment's sections go back to the pool, its unsubmitted review is
    DISCONTINUED and its clock ends; returns the audit detail."""
    session.execute(delete(HeldSection).where(col(HeldSection.assignment_id) == assignment.id))
    released = assignment.assigned_sections
    assignment.status = AssignmentStatus.AVAILABLE
    assignment.assigned_sections = []
    end_clock(session, assignment, event, at)
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id) == assignment.id,
            col(Review.status) != ReviewStatus.SUBMITTED,
        )
        .values(status=ReviewStatus.DISCONTINUED, updated_at=at)
    )
    return {
        "assignment_id": assignment.id,
        "reviewer_id": assignment.reviewer_id,
        "sections": released,
    }


def tell(
    session: Session,
    application: Application,
    assignment: Assignment,
    review_id: str | None,
    step: str,
    at: datetime,
    *,
    role: str,
    title: str,
    extra: dict[str, object] | None = None,
) -> None:
    """A step of the clock: its audit row, its `review.{step}` event and a to-do for `role`
    (the reviewer, or the template's assigners), all once per clock and step."""
    assert assignment.due_at is not None
    key = clock_key(assignment, assignment.due_at, step)
    detail: dict[str, object] = {
        "assignment_id": assignment.id,
        "review_id": review_id,
        "reviewer_id": assignment.reviewer_id,
        "stage": assignment.stage,
        "level": assignment.level,
        "due_at": assignment.due_at.isoformat(),
        **(extra or {}),
    }
    change = case_change(application, f"review_{step}", "system", at, key)
    announce(
        session,
        change,
        detail,
        event_type=f"review.{step}",
        event_subject=review_id or assignment.id,
    )
    open_action(
        session,
        key=key,
        kind=f"review_{step}",
        subject_kind="application",
        subject_id=application.id,
        role=role,
        title=title,
        at=at,
        detail={**detail, "template_code": application.template_code},
    )


# The commands of this module: each change is audited as its actor's, at its time.
AssignmentCommand = RecordAssignmentInput | RecordUnassignmentInput | SyncAssignmentsInput


def _record(
    session: Session,
    application: Application,
    command: AssignmentCommand,
    action: str,
    detail: dict[str, object],
) -> None:
    """The change raises the case's revision and writes its audit row."""
    bump(session, application, command.at)
    audit(session, application, command.actor, command.at, action, detail)


def _follow_grants(
    session: Session,
    application: Application,
    shape: CaseShape,
    rows: Sequence[Assignment],
    granted: dict[str, list[str] | None],
    at: datetime,
) -> list[str]:
    """Apply the grants to the untaken rows; return what changed."""
    changes: list[str] = []
    by_reviewer = {row.reviewer_id: row for row in rows}
    stage = application.stage or ""
    granted = {user: allowed_for(shape, stage, sections) for user, sections in granted.items()}
    for row in rows:
        untaken = row.status == AssignmentStatus.AVAILABLE and row.closed_at is None
        if untaken and row.reviewer_id not in granted:
            row.closed_at = at  # a revoked grant removes the untaken row
            changes.append(f"removed {row.reviewer_id}")
        elif untaken and row.allowed_sections != granted[row.reviewer_id]:
            row.allowed_sections = granted[row.reviewer_id]
            changes.append(f"limited {row.reviewer_id}")
        elif row.closed_at is not None and row.reviewer_id in granted:
            row.closed_at = None  # granted again
            row.allowed_sections = granted[row.reviewer_id]
            changes.append(f"restored {row.reviewer_id}")
        else:
            continue
        row.updated_at = at
        session.add(row)
    for reviewer_id, sections in granted.items():
        if reviewer_id not in by_reviewer:
            add_assignment(
                session,
                application,
                shape,
                application.stage or "",
                application.level,
                reviewer_id,
                sections,
                at,
            )
            changes.append(f"added {reviewer_id}")
    return changes


def _revive_review(session: Session, assignment: Assignment, at: datetime) -> None:
    """Reassigning a reviewer brings a DISCONTINUED review back to DRAFT."""
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id) == assignment.id,
            col(Review.status) == ReviewStatus.DISCONTINUED,
        )
        .values(status=ReviewStatus.DRAFT, updated_at=at)
    )
