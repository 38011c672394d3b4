"""Review activities: start or restart a review, and submit it."""

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity

from activities.case import (
    audit,
    bump,
    lock_application,
    open_application,
    open_assignment,
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
)
from domain.template import TemplateDefinition
from models.application import Application
from models.assessment import Assessment
from models.review import Assignment, Review
from models.review_targets import element_sections
from workflows.payloads.review import (
    RecordReviewStartInput,
    RecordReviewSubmissionInput,
    ReviewStarted,
    ReviewSubmitted,
)

OPEN_FOR_REVIEW = frozenset({ApplicationStatus.SUBMITTED.value})
OPEN_FOR_CLAIMS = frozenset(
    {ApplicationStatus.SUBMITTED.value, ApplicationStatus.CHANGES_REQUIRED.value}
)


class ReviewActivities:
    """I/O for ApplicationReviewWorkflow's review transitions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    @refusals_fail_fast
    def record_review_start(self, command: RecordReviewStartInput) -> ReviewStarted:
        """Create the review with a response per target, or restart it (same id)."""
        with Session(self.engine) as session, session.begin():
            application = open_application(session, command.application_id, OPEN_FOR_REVIEW)
            assignment = open_assignment(session, application, command.assignment_id)
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

    @activity.defn
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
    review.status = ReviewStatus.DRAFT.value
    review.updated_at = at
    session.add(review)
    fill_blanks(session, application, review, assignment, element_sections(template), at)
    audit(
        session,
        application,
        review.reviewer_id,
        at,
        "review_restarted",
        {"review_id": review.id, "round": review.round},
    )
