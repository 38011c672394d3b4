"""Application activities: submission, resubmission, withdrawal, LOQ reminders and expiry."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from activities.base import EngineActivities, transaction_activity
from activities.case import (
    announce,
    bump,
    case_change,
    lock_application,
    set_assessment_status,
    shape_of,
    snapshot,
    template_of,
)
from activities.case_levels import close_assignments, complete, open_level
from domain.application import (
    TERMINAL_STATUSES,
    ApplicationAction,
    ApplicationOutcome,
    ApplicationStatus,
    AssessmentStatus,
    assessment_status_for,
    check_complete,
    ensure_allowed,
    first_stage,
)
from domain.cancellation import CANCELLED_BY_OPERATOR
from domain.errors import Conflict
from domain.review import ReviewStatus
from domain.template import TemplateDefinition
from models.application import (
    Application,
    ApplicationResponse,
    latest_responses,
    mark_withdrawn,
)
from models.assessment import Assessment, AssessmentSection
from models.review_queries import loq_questions, lower_reviews
from workflows.payloads.application import (
    RecordOperatorWithdrawalInput,
    RecordSubmissionInput,
    RecordWithdrawalInput,
    SubmissionResult,
)
from workflows.payloads.review import (
    CaseSnapshot,
    RecordLoqExpiryInput,
    RecordLoqReminderInput,
)


class ApplicationActivities(EngineActivities):
    """I/O for ApplicationReviewWorkflow's application-level transitions."""

    @transaction_activity
    def record_submission(
        self, session: Session, command: RecordSubmissionInput
    ) -> SubmissionResult:
        """Lock the application, check it, record the (re)submission and its effects."""
        application = lock_application(session, command.application_id)
        template = template_of(session, application)
        if application.submission_count >= command.submission:  # a retry: already recorded
            return SubmissionResult(
                snapshot=snapshot(session, application), shape=shape_of(template)
            )
        ensure_allowed(ApplicationAction.SUBMIT, application.status)
        answers = latest_responses(session, application.id)
        check_complete(template, {r.element_code: r.value for r in answers})
        if command.submission == 1:
            _first_submission(session, application, template, command.at)
        else:
            _resubmission(session, application, answers, command.at)
        session.execute(
            update(ApplicationResponse)
            .where(
                col(ApplicationResponse.application_id) == application.id,
                col(ApplicationResponse.submitted_at).is_(None),
            )
            .values(submitted_at=command.at)
        )
        application.status = ApplicationStatus.SUBMITTED
        application.submission_count = command.submission
        application.submitted_at = command.at
        application.loq_deadline_at = None
        bump(session, application, command.at)
        action = "submitted" if command.submission == 1 else "resubmitted"
        key = f"application:{application.id}:{action}:{application.submission_count}"
        announce(
            session,
            case_change(application, action, command.actor, command.at, key),
            {
                "template_code": application.template_code,
                "submission": command.submission,
                "stage": application.stage,
            },
        )
        if command.submission == 1:
            shape = shape_of(template)
            open_level(session, application, shape, application.stage or "", 1, command.at)
        return SubmissionResult(snapshot=snapshot(session, application), shape=shape_of(template))

    @transaction_activity
    def record_withdrawal(self, session: Session, command: RecordWithdrawalInput) -> CaseSnapshot:
        """Withdraw: open assignments end and unsubmitted reviews are discontinued."""
        application = lock_application(session, command.application_id)
        if application.status != ApplicationStatus.WITHDRAWN:
            ensure_allowed(ApplicationAction.WITHDRAW, application.status)
            _withdraw(session, application, command.actor, command.reason, command.at)
        return snapshot(session, application)

    @transaction_activity
    def record_operator_withdrawal(
        self, session: Session, command: RecordOperatorWithdrawalInput
    ) -> CaseSnapshot:
        """An operator's cancel: withdraw as `record_withdrawal` does, reason
        CANCELLED_BY_OPERATOR; a case that ended meanwhile is left as it is."""
        application = lock_application(session, command.application_id)
        if application.status not in TERMINAL_STATUSES:
            _withdraw(
                session,
                application,
                command.actor,
                CANCELLED_BY_OPERATOR,
                command.at,
                note=command.note,
            )
        return snapshot(session, application)

    @transaction_activity
    def record_loq_reminder(
        self, session: Session, command: RecordLoqReminderInput
    ) -> CaseSnapshot:
        """Remind the applicant (event + audit), unless the LOQ was answered meanwhile."""
        application = lock_application(session, command.application_id)
        if _loq_open(application, command.loq_round):
            detail = {
                "loq_round": command.loq_round,
                "deadline_at": command.deadline_at.isoformat(),
            }
            key = f"application:{application.id}:loq_reminder:{command.loq_round}:" + (
                command.at.isoformat()
            )
            change = case_change(application, "loq_reminder", "system", command.at, key)
            announce(session, change, detail)
        return snapshot(session, application)

    @transaction_activity
    def record_loq_expiry(self, session: Session, command: RecordLoqExpiryInput) -> CaseSnapshot:
        """The deadline passed: complete REJECTED with LOQ_EXPIRED (unless answered meanwhile)."""
        application = lock_application(session, command.application_id)
        if _loq_open(application, command.loq_round):
            complete(
                session,
                application,
                outcome=ApplicationOutcome.REJECTED,
                reason="LOQ_EXPIRED",
                actor="system",
                at=command.at,
            )
            bump(session, application, command.at)
        return snapshot(session, application)


def _withdraw(
    session: Session,
    application: Application,
    actor: str,
    reason: str | None,
    at: datetime,
    *,
    note: str | None = None,
) -> None:
    """Open assignments end, the LOQ clock stops, the application is WITHDRAWN (audited)."""
    close_assignments(session, application.id, at)
    application.loq_deadline_at = None
    mark_withdrawn(session, application, actor=actor, at=at, reason=reason, note=note)
    bump(session, application, at)


def _loq_open(application: Application, loq_round: int) -> bool:
    return (
        application.status == ApplicationStatus.CHANGES_REQUIRED
        and application.loq_round == loq_round
    )


def _first_submission(
    session: Session, application: Application, template: TemplateDefinition, at: datetime
) -> None:
    """Create the assessment and reach level 1 of the first stage."""
    stage = first_stage(template)
    assessment = Assessment(
        id=f"asm-{application.id}",
        application_id=application.id,
        template_code=application.template_code,
        template_version=application.template_version,
        status=assessment_status_for(stage),
        created_at=at,
        updated_at=at,
    )
    session.add(assessment)
    for position, section in enumerate(template.sections):
        session.add(
            AssessmentSection(
                id=f"{assessment.id}-{section.code}",
                assessment_id=assessment.id,
                code=section.code,
                title=section.title,
                position=position,
                preliminary=section.preliminary,
                checks=list(section.checks),
                failure_reasons=[r.model_dump(mode="json") for r in section.failure_reasons],
            )
        )
    application.stage = stage.code


def _resubmission(
    session: Session, application: Application, answers: list[ApplicationResponse], at: datetime
) -> None:
    """Every sent-back answer must have changed; reviews holding a changed answer go PENDING."""
    changed = {r.element_code for r in answers if r.submitted_at is None}
    sent_back = {
        r.element_code for r in loq_questions(session, application.id, application.loq_round)
    }
    unchanged = sorted(set(sent_back) - changed)
    if unchanged:
        raise Conflict(
            f"change every answer sent back before resubmitting; unchanged: {', '.join(unchanged)}"
        )
    template = template_of(session, application)
    changed_sections = {
        section.code
        for section in template.sections
        if any(element.code in changed for element in section.elements)
    }
    reviews = lower_reviews(session, application.id, application.stage or "", 1)
    for review, assignment in reviews:
        if changed_sections & set(assignment.assigned_sections):
            review.status = ReviewStatus.PENDING
            review.updated_at = at
            session.add(review)
    application.level = 1
    set_assessment_status(session, application.id, AssessmentStatus.IN_PROGRESS, at)
