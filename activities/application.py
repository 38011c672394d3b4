"""Application activities: submission and withdrawal, each one transaction."""

from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio import activity

from activities.refusal import refusals_fail_fast
from domain.application import (
    ApplicationAction,
    ApplicationStatus,
    AssessmentStatus,
    assessment_status_for,
    check_complete,
    ensure_allowed,
    first_stage,
)
from domain.errors import NotFound
from domain.template import TemplateDefinition
from models.application import (
    Application,
    ApplicationResponse,
    latest_responses,
    mark_withdrawn,
)
from models.assessment import Assessment, AssessmentSection
from models.event import publish, write_audit
from models.template import definition_of, get_version
from workflows.payloads.application import (
    RECORD_SUBMISSION,
    RECORD_WITHDRAWAL,
    RecordSubmissionInput,
    RecordWithdrawalInput,
    SubmissionResult,
    WithdrawalResult,
)


class ApplicationActivities:
    """I/O for ApplicationReviewWorkflow (built once per worker with its engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name=RECORD_SUBMISSION)
    @refusals_fail_fast
    def record_submission(self, command: RecordSubmissionInput) -> SubmissionResult:
        """Lock the application, check it is complete, record the submission and assessment."""
        with Session(self.engine) as session, session.begin():
            application = _lock(session, command.application_id)
            if application.submission_count >= command.submission:
                return _submission_result(session, application)  # a retry: already recorded
            ensure_allowed(ApplicationAction.SUBMIT, ApplicationStatus(application.status))
            template = _definition(session, application)
            responses = latest_responses(session, application.id)
            check_complete(template, {r.element_code: r.value for r in responses})
            session.execute(
                update(ApplicationResponse)
                .where(
                    col(ApplicationResponse.application_id) == application.id,
                    col(ApplicationResponse.submitted_at).is_(None),
                )
                .values(submitted_at=command.at)
            )
            first = command.submission == 1
            if first:
                application.stage = first_stage(template).code
                _create_assessment(session, application, template, command.at)
            application.status = ApplicationStatus.SUBMITTED.value
            application.submission_count = command.submission
            application.submitted_at = command.at
            application.updated_at = command.at
            session.add(application)
            action = "submitted" if first else "resubmitted"
            key = f"application:{application.id}:{action}:{command.submission}"
            write_audit(
                session,
                subject_kind="application",
                subject_id=application.id,
                at=command.at,
                actor=command.actor,
                action=action,
                key=key,
                detail={"submission": command.submission, "stage": application.stage},
            )
            publish(
                session,
                type=f"application.{action}",
                subject=application.id,
                at=command.at,
                key=key,
                data={
                    "application_id": application.id,
                    "template_code": application.template_code,
                    "stage": application.stage,
                    "submission": command.submission,
                },
            )
            session.flush()
            return _submission_result(session, application)

    @activity.defn(name=RECORD_WITHDRAWAL)
    @refusals_fail_fast
    def record_withdrawal(self, command: RecordWithdrawalInput) -> WithdrawalResult:
        """Lock the application and record its withdrawal."""
        with Session(self.engine) as session, session.begin():
            application = _lock(session, command.application_id)
            if application.status == ApplicationStatus.WITHDRAWN.value:
                return WithdrawalResult(status=ApplicationStatus.WITHDRAWN)  # a retry
            ensure_allowed(ApplicationAction.WITHDRAW, ApplicationStatus(application.status))
            mark_withdrawn(
                session, application, actor=command.actor, at=command.at, reason=command.reason
            )
            return WithdrawalResult(status=ApplicationStatus.WITHDRAWN)


def _lock(session: Session, application_id: str) -> Application:
    application = session.exec(
        select(Application).where(Application.id == application_id).with_for_update()
    ).one_or_none()
    if application is None:
        raise NotFound(f"application {application_id} does not exist")
    return application


def _definition(session: Session, application: Application) -> TemplateDefinition:
    template = get_version(session, application.template_code, application.template_version)
    if template is None:
        raise NotFound(
            f"template {application.template_code} v{application.template_version} is missing"
        )
    return definition_of(template)


def _create_assessment(
    session: Session, application: Application, template: TemplateDefinition, at: datetime
) -> None:
    """One assessment, a section per template section holding a snapshot of its lists."""
    assessment = Assessment(
        id=f"asm-{application.id}",
        application_id=application.id,
        template_code=application.template_code,
        template_version=application.template_version,
        status=assessment_status_for(first_stage(template)).value,
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
                failure_reasons=[
                    reason.model_dump(mode="json") for reason in section.failure_reasons
                ],
            )
        )


def _submission_result(session: Session, application: Application) -> SubmissionResult:
    assessment = session.exec(
        select(Assessment).where(Assessment.application_id == application.id)
    ).one()
    return SubmissionResult(
        status=ApplicationStatus(application.status),
        stage=application.stage or "",
        submissions=application.submission_count,
        assessment_status=AssessmentStatus(assessment.status),
    )
