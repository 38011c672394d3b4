"""Review activities: start or restart a review, and submit it (check, plan, apply)."""

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from activities.assignment import release_sections, tell
from activities.base import EngineActivities, transaction_activity
from activities.case import (
    announce,
    assessment_status,
    audit,
    bump,
    case_change,
    lock_application,
    shape_of,
    snapshot,
    template_of,
)
from activities.case_levels import end_clock, open_assignment
from activities.case_transition import apply_transition, fill_blanks
from activities.rows import inserted
from domain.application import AssessmentStatus
from domain.errors import NotFound
from domain.review import (
    RESTARTABLE,
    ReviewStatus,
    ensure_disagreements_changed,
    ensure_submittable,
    waiting_sections,
)
from domain.review_deadline import ClockEvent, StepKind, still_running
from domain.review_guards import OPEN_FOR_CLAIMS, ensure_can_start, ensure_can_submit
from domain.review_plan import Submitted, plan_after_submission
from domain.template import TemplateDefinition
from models.application import Application
from models.assessment import Assessment
from models.review import Assignment, Review, ReviewResponse
from models.review_queries import (
    decided_of,
    disagreed_by_level_above,
    element_sections,
    open_at,
    review_of,
    seat_of,
    situation_of,
)
from models.views import same_named
from workflows.payloads.review import (
    CaseSnapshot,
    RecordReviewClockInput,
    RecordReviewStartInput,
    RecordReviewSubmissionInput,
    ReviewStarted,
    ReviewSubmitted,
)


class ReviewActivities(EngineActivities):
    """I/O for ApplicationReviewWorkflow's review transitions."""

    @transaction_activity
    def record_review_start(
        self, session: Session, command: RecordReviewStartInput
    ) -> ReviewStarted:
        """Create the review with a response per target, or restart it (same id)."""
        application = lock_application(session, command.application_id)
        assignment = open_assignment(session, application, command.assignment_id)
        review = review_of(session, assignment.id, lock=True)
        ensure_can_start(seat_of(application, assignment, review), command.actor)
        template = template_of(session, application)
        created = review is None
        if review is None:
            review = _create_review(session, application, assignment, template, command)
        elif review.status in RESTARTABLE:
            _restart_review(session, application, assignment, review, template, command.at)
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
            status=review.status,
            created=created,
            snapshot=snapshot(session, application),
        )

    @transaction_activity
    def record_review_submission(
        self, session: Session, command: RecordReviewSubmissionInput
    ) -> ReviewSubmitted:
        """Check the review under lock, plan what it does to the case, then submit and apply."""
        application = lock_application(session, command.application_id)
        review = session.get(Review, command.review_id, with_for_update=True)
        if review is None or review.application_id != application.id:
            raise NotFound(f"review {command.review_id} does not exist")
        # A retry: the same submission again. A local activity re-run after a workflow task
        # timed out carries a later `at` (decision 0090), so the decision names it too.
        retried = review.status == ReviewStatus.SUBMITTED and (
            review.time_submitted == command.at or review.decision == command.decision
        )
        if not retried:
            assignment = session.get(Assignment, review.assignment_id)
            assert assignment is not None
            ensure_can_submit(seat_of(application, assignment, review), command.actor)
            _submit(session, application, assignment, review, command)
            bump(session, application, command.at)
        return ReviewSubmitted(
            review_id=review.id,
            review_status=ReviewStatus.SUBMITTED,
            decision=command.decision,
            snapshot=snapshot(session, application),
        )

    @transaction_activity
    def record_review_clock(
        self, session: Session, command: RecordReviewClockInput
    ) -> CaseSnapshot:
        """A step of a reviewer's clock: remind the reviewer, mark the review overdue (the
        template's assigners are told), or give its sections back after the grace. Nothing
        happens when the clock it was planned on no longer runs (a retry, or ended)."""
        application = lock_application(session, command.application_id)
        assignment = session.get(Assignment, command.assignment_id, with_for_update=True)
        if (
            assignment is not None
            and assignment.application_id == application.id
            and assignment.closed_at is None
            and application.status in OPEN_FOR_CLAIMS
            and still_running(assignment.due_at, command.due_at)
        ):
            _clock_step(session, application, assignment, command)
        return snapshot(session, application)


def _clock_step(
    session: Session,
    application: Application,
    assignment: Assignment,
    command: RecordReviewClockInput,
) -> None:
    review = review_of(session, assignment.id)
    review_id = review.id if review else None
    due = f"{command.due_at:%Y-%m-%d %H:%M:%S}Z"
    match command.kind:
        case StepKind.REMINDER:
            before = command.before.total_seconds() if command.before else None
            tell(
                session,
                application,
                assignment,
                review_id,
                "reminder",
                command.at,
                role="reviewer",
                title=f"Your review of application {application.id} is due {due}",
                extra={"before_seconds": before},
            )
        case StepKind.OVERDUE:
            if assignment.overdue_at is not None:
                return
            tell(
                session,
                application,
                assignment,
                review_id,
                "overdue",
                command.at,
                role="assigner",
                title=f"The review by {assignment.reviewer_id} of {application.id} is overdue",
            )
            assignment.overdue_at = command.at
            assignment.updated_at = command.at
            session.add(assignment)
            bump(session, application, command.at)
        case StepKind.UNASSIGN:
            tell(
                session,
                application,
                assignment,
                review_id,
                "auto_unassigned",
                command.at,
                role="assigner",
                title=f"Overdue sections of {application.id} were taken back from "
                f"{assignment.reviewer_id}; assign them again",
                extra={"sections": assignment.assigned_sections},
            )
            release_sections(session, assignment, ClockEvent.AUTO_UNASSIGN, command.at)
            bump(session, application, command.at)


def _submit(
    session: Session,
    application: Application,
    assignment: Assignment,
    review: Review,
    command: RecordReviewSubmissionInput,
) -> None:
    """Refuse what the rules refuse; otherwise plan the case's next step, submit and apply it."""
    template = template_of(session, application)
    shape = shape_of(template)
    responses, situation = situation_of(session, application, review, assignment, template)
    if not waiting_sections(situation):  # waiting for the level below is the first reason
        live = {r.id: r.element_code for r in responses}
        ensure_disagreements_changed(live, disagreed_by_level_above(session, review))
    ensure_submittable(
        situation, command.decision, [r.target_id for r in responses if r.decision is None]
    )
    plan = plan_after_submission(
        shape,
        Submitted(
            decided=decided_of(session, responses),
            case_stage=application.stage,
            loq_round=application.loq_round,
            assessment_status=assessment_status(session, application.id),
            next_level_open=bool(open_at(session, application.id, review.stage, review.level + 1)),
            **same_named(review, "stage", "level"),
            **same_named(command, "decision", "at"),
        ),
    )
    _trim_and_stamp(session, review, command)
    end_clock(session, assignment, ClockEvent.SUBMIT, command.at)
    _audit_review_submitted(session, application, review, command)
    apply_transition(session, application, shape, review, plan, actor=command.actor, at=command.at)


def _trim_and_stamp(session: Session, review: Review, command: RecordReviewSubmissionInput) -> None:
    """Undecided responses are trimmed; the rest are stamped; the review is submitted."""
    session.execute(
        delete(ReviewResponse).where(
            col(ReviewResponse.review_id) == review.id, col(ReviewResponse.decision).is_(None)
        )
    )
    session.execute(
        update(ReviewResponse)
        .where(
            col(ReviewResponse.review_id) == review.id, col(ReviewResponse.submitted_at).is_(None)
        )
        .values(submitted_at=command.at)
    )
    review.status = ReviewStatus.SUBMITTED
    review.decision = command.decision
    review.comment = command.comment
    review.time_submitted = command.at
    review.updated_at = command.at
    session.add(review)


def _audit_review_submitted(
    session: Session, application: Application, review: Review, command: RecordReviewSubmissionInput
) -> None:
    """The audit row and the `review.submitted` event."""
    key = f"review:{review.id}:submitted:{review.round}"
    announce(
        session,
        case_change(application, "review_submitted", command.actor, command.at, key),
        {
            "review_id": review.id,
            "stage": review.stage,
            "level": review.level,
            "decision": review.decision,
            "round": review.round,
        },
        event_type="review.submitted",
        event_subject=review.id,
    )


def _create_review(
    session: Session,
    application: Application,
    assignment: Assignment,
    template: TemplateDefinition,
    command: RecordReviewStartInput,
) -> Review:
    review = inserted(
        session,
        Review(
            id=command.review_id,
            assignment_id=assignment.id,
            time_started=command.at,
            updated_at=command.at,
            **same_named(assignment, "application_id", "stage", "level", "reviewer_id"),
        ),
    )
    sections_of = element_sections(template)
    fill_blanks(session, application, review, assignment, sections_of, command.at, created=True)
    stage = next(s for s in template.stages if s.code == assignment.stage)
    assessment = session.exec(
        select(Assessment).where(Assessment.application_id == application.id).with_for_update()
    ).one()
    if not stage.pre_assessment and assessment.status == AssessmentStatus.NOT_STARTED:
        assessment.status = AssessmentStatus.IN_PROGRESS
        assessment.updated_at = command.at
        session.add(assessment)
    audit(
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
    review.status = ReviewStatus.DRAFT
    review.updated_at = at
    session.add(review)
    end_clock(session, assignment, ClockEvent.RESTART, at)
    fill_blanks(session, application, review, assignment, element_sections(template), at)
    audit(
        session,
        application,
        review.reviewer_id,
        at,
        "review_restarted",
        {"review_id": review.id, "round": review.round},
    )
