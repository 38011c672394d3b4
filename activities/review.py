"""Review activities: claims, review start/restart, submission and its effects."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity

from activities.case import (
    add_assignment,
    allowed_for,
    bump,
    granted_sections,
    lock_application,
    shape_of,
    snapshot,
    template_of,
)
from activities.decision import apply_decision
from activities.refusal import refusals_fail_fast
from activities.review_rows import fill_blanks
from domain.application import ApplicationStatus, AssessmentStatus
from domain.errors import Conflict, Forbidden, NotFound
from domain.review import (
    RESTARTABLE,
    AssignmentStatus,
    ReviewStatus,
    sections_to_claim,
    takes_all_sections,
)
from domain.template import TemplateDefinition
from models.application import Application
from models.assessment import Assessment
from models.event import write_audit
from models.review import Assignment, HeldSection, Review
from models.review_targets import element_sections
from workflows.payloads.review import (
    RECORD_ASSIGNMENT,
    RECORD_REVIEW_START,
    RECORD_REVIEW_SUBMISSION,
    RECORD_UNASSIGNMENT,
    SYNC_ASSIGNMENTS,
    CaseShape,
    CaseSnapshot,
    RecordAssignmentInput,
    RecordReviewStartInput,
    RecordReviewSubmissionInput,
    RecordUnassignmentInput,
    ReviewStarted,
    ReviewSubmitted,
    SyncAssignmentsInput,
)

OPEN_FOR_REVIEW = frozenset({ApplicationStatus.SUBMITTED.value})
OPEN_FOR_CLAIMS = frozenset(
    {ApplicationStatus.SUBMITTED.value, ApplicationStatus.CHANGES_REQUIRED.value}
)


class ReviewActivities:
    """I/O for ApplicationReviewWorkflow's assignment and review transitions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name=RECORD_ASSIGNMENT)
    @refusals_fail_fast
    def record_assignment(self, command: RecordAssignmentInput) -> CaseSnapshot:
        """Hold the sections for the assignment (one row per held section, unique per level)."""
        with Session(self.engine) as session, session.begin():
            application = _open(session, command.application_id, OPEN_FOR_CLAIMS)
            assignment = _assignment(session, application, command.assignment_id)
            if set(command.sections) <= set(assignment.assigned_sections):
                return snapshot(session, application)  # a retry: already held
            template = template_of(session, application)
            shape = shape_of(template)
            held = session.exec(
                select(HeldSection.section).where(
                    HeldSection.application_id == application.id,
                    HeldSection.stage == assignment.stage,
                    HeldSection.level == assignment.level,
                    HeldSection.assignment_id != assignment.id,
                )
            ).all()
            sections = sections_to_claim(
                requested=command.sections,
                allowed=assignment.allowed_sections,
                all_sections=shape.review_sections(assignment.stage),
                held_by_others=held,
                whole=takes_all_sections(shape.stage(assignment.stage), assignment.level),
            )
            try:
                with session.begin_nested():
                    for section in sections:
                        session.add(
                            HeldSection(
                                application_id=application.id,
                                stage=assignment.stage,
                                level=assignment.level,
                                section=section,
                                assignment_id=assignment.id,
                            )
                        )
            except IntegrityError as error:
                raise Conflict("another reviewer took one of these sections first") from error
            assignment.status = AssignmentStatus.ASSIGNED.value
            assignment.assigned_sections = sorted({*assignment.assigned_sections, *sections})
            assignment.assigner_id = command.actor
            assignment.updated_at = command.at
            session.add(assignment)
            _revive_review(session, assignment, command.at)
            bump(session, application, command.at)
            action = "assigned" if command.by_assigner else "self_assigned"
            _audit(
                session,
                application,
                command.actor,
                command.at,
                action,
                {
                    "assignment_id": assignment.id,
                    "reviewer_id": assignment.reviewer_id,
                    "stage": assignment.stage,
                    "level": assignment.level,
                    "sections": sections,
                },
            )
            return snapshot(session, application)

    @activity.defn(name=RECORD_UNASSIGNMENT)
    @refusals_fail_fast
    def record_unassignment(self, command: RecordUnassignmentInput) -> CaseSnapshot:
        """Release the assignment's sections; its review becomes DISCONTINUED."""
        with Session(self.engine) as session, session.begin():
            application = _open(session, command.application_id, OPEN_FOR_CLAIMS)
            assignment = _assignment(session, application, command.assignment_id)
            if assignment.status == AssignmentStatus.AVAILABLE.value:
                return snapshot(session, application)  # a retry, or nothing held
            session.execute(
                delete(HeldSection).where(col(HeldSection.assignment_id) == assignment.id)
            )
            released = assignment.assigned_sections
            assignment.status = AssignmentStatus.AVAILABLE.value
            assignment.assigned_sections = []
            assignment.updated_at = command.at
            session.add(assignment)
            session.execute(
                update(Review)
                .where(
                    col(Review.assignment_id) == assignment.id,
                    col(Review.status) != ReviewStatus.SUBMITTED.value,
                )
                .values(status=ReviewStatus.DISCONTINUED.value, updated_at=command.at)
            )
            bump(session, application, command.at)
            _audit(
                session,
                application,
                command.actor,
                command.at,
                "unassigned",
                {
                    "assignment_id": assignment.id,
                    "reviewer_id": assignment.reviewer_id,
                    "sections": released,
                },
            )
            return snapshot(session, application)

    @activity.defn(name=RECORD_REVIEW_START)
    @refusals_fail_fast
    def record_review_start(self, command: RecordReviewStartInput) -> ReviewStarted:
        """Create the review with a response per target, or restart it (same id)."""
        with Session(self.engine) as session, session.begin():
            application = _open(session, command.application_id, OPEN_FOR_REVIEW)
            assignment = _assignment(session, application, command.assignment_id)
            if assignment.reviewer_id != command.actor:
                raise Forbidden("only the assignment's reviewer starts its review")
            if assignment.status != AssignmentStatus.ASSIGNED.value:
                raise Conflict("take sections of this assignment before starting its review")
            template = template_of(session, application)
            review = session.exec(
                select(Review).where(Review.assignment_id == assignment.id).with_for_update()
            ).first()
            created = review is None
            if review is None:
                review = _create_review(session, application, assignment, template, command)
            elif ReviewStatus(review.status) in RESTARTABLE:
                _restart_review(session, application, assignment, review, template, command.at)
            elif review.status != ReviewStatus.DRAFT.value:
                raise Conflict(f"the review is {review.status}; it cannot be started again")
            else:  # already DRAFT: a retry of this start, or a repeated click
                retried = review.id == command.review_id and review.time_started == command.at
                return ReviewStarted(
                    review_id=review.id,
                    status=ReviewStatus.DRAFT,
                    created=retried and review.round == 1,
                    snapshot=snapshot(session, application),
                )
            bump(session, application, command.at)
            return ReviewStarted(
                review_id=review.id,
                status=ReviewStatus(review.status),
                created=created,
                snapshot=snapshot(session, application),
            )

    @activity.defn(name=RECORD_REVIEW_SUBMISSION)
    @refusals_fail_fast
    def record_review_submission(self, command: RecordReviewSubmissionInput) -> ReviewSubmitted:
        """Check the review under lock, trim it, submit it and apply its decision."""
        with Session(self.engine) as session, session.begin():
            application = lock_application(session, command.application_id)
            review = session.get(Review, command.review_id, with_for_update=True)
            if review is None or review.application_id != application.id:
                raise NotFound(f"review {command.review_id} does not exist")
            if (
                review.status == ReviewStatus.SUBMITTED.value
                and review.time_submitted == command.at
            ):
                return ReviewSubmitted(
                    review_id=review.id,
                    review_status=ReviewStatus.SUBMITTED,
                    decision=command.decision,
                    snapshot=snapshot(session, application),
                )
            if application.status not in OPEN_FOR_REVIEW:
                raise Conflict(f"the application is {application.status}; reviews are closed")
            if review.reviewer_id != command.actor:
                raise Forbidden("only the review's reviewer submits it")
            if review.status != ReviewStatus.DRAFT.value:
                raise Conflict(f"the review is {review.status}; only a DRAFT review is submitted")
            apply_decision(session, application, review, command)
            bump(session, application, command.at)
            return ReviewSubmitted(
                review_id=review.id,
                review_status=ReviewStatus.SUBMITTED,
                decision=command.decision,
                snapshot=snapshot(session, application),
            )

    @activity.defn(name=SYNC_ASSIGNMENTS)
    @refusals_fail_fast
    def sync_assignments(self, command: SyncAssignmentsInput) -> CaseSnapshot:
        """Untaken rows of the current level follow the review grants (add, limit, remove)."""
        with Session(self.engine) as session, session.begin():
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
                bump(session, application, command.at)
                _audit(
                    session,
                    application,
                    command.actor,
                    command.at,
                    "assignments_synced",
                    {"stage": stage, "level": level, "changes": changes},
                )
            return snapshot(session, application)


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
        untaken = row.status == AssignmentStatus.AVAILABLE.value and row.closed_at is None
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


def _open(session: Session, application_id: str, statuses: frozenset[str]) -> Application:
    application = lock_application(session, application_id)
    if application.status not in statuses:
        raise Conflict(f"the application is {application.status}; this is not possible now")
    return application


def _assignment(session: Session, application: Application, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id, with_for_update=True)
    if assignment is None or assignment.application_id != application.id:
        raise NotFound(f"assignment {assignment_id} does not exist")
    if assignment.closed_at is not None:
        raise Conflict("this assignment has ended")
    return assignment


def _revive_review(session: Session, assignment: Assignment, at: datetime) -> None:
    """Reassigning a reviewer brings a DISCONTINUED review back to DRAFT."""
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id) == assignment.id,
            col(Review.status) == ReviewStatus.DISCONTINUED.value,
        )
        .values(status=ReviewStatus.DRAFT.value, updated_at=at)
    )


def _create_review(
    session: Session,
    application: Application,
    assignment: Assignment,
    template: TemplateDefinition,
    command: RecordReviewStartInput,
) -> Review:
    review = Review(
        id=command.review_id,
        assignment_id=assignment.id,
        application_id=application.id,
        stage=assignment.stage,
        level=assignment.level,
        reviewer_id=assignment.reviewer_id,
        time_started=command.at,
        updated_at=command.at,
    )
    session.add(review)
    session.flush()
    fill_blanks(session, application, review, assignment, element_sections(template), command.at)
    stage = next(s for s in template.stages if s.code == assignment.stage)
    assessment = session.exec(
        select(Assessment).where(Assessment.application_id == application.id).with_for_update()
    ).one()
    if not stage.pre_assessment and assessment.status == AssessmentStatus.NOT_STARTED.value:
        assessment.status = AssessmentStatus.IN_PROGRESS.value
        assessment.updated_at = command.at
        session.add(assessment)
    _audit(
        session,
        application,
        command.actor,
        command.at,
        "review_started",
        {"review_id": review.id, "assignment_id": assignment.id, "level": review.level},
    )
    return review


def _restart_review(
    session: Session,
    application: Application,
    assignment: Assignment,
    review: Review,
    template: TemplateDefinition,
    at: datetime,
) -> None:
    """A new round: unchanged answers keep their decision, new or changed ones await one."""

    review.round += 1
    review.status = ReviewStatus.DRAFT.value
    review.updated_at = at
    session.add(review)
    fill_blanks(session, application, review, assignment, element_sections(template), at)
    _audit(
        session,
        application,
        review.reviewer_id,
        at,
        "review_restarted",
        {"review_id": review.id, "round": review.round},
    )


def _audit(
    session: Session,
    application: Application,
    actor: str,
    at: datetime,
    action: str,
    detail: dict[str, object],
) -> None:
    write_audit(
        session,
        subject_kind="application",
        subject_id=application.id,
        at=at,
        actor=actor,
        action=action,
        key=f"application:{application.id}:{action}:{application.revision + 1}",
        detail=detail,
    )
