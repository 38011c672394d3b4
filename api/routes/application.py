"""Applications: drafts and reads on PostgreSQL; submit and withdraw through the workflow."""

from datetime import UTC, datetime

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from api.deps import CallerDep, EngineDep, PagingDep, SessionDep, SettingsDep, TemporalDep
from api.pagination import Page
from api.roles import Applicant, ApplicationStaff, AssessmentReader
from api.routing import ReadRoute
from api.services import application as applications
from domain.access import Role
from domain.application import ApplicationStatus
from domain.errors import Conflict, Forbidden
from domain.values import Code, Id
from models.application import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationSummary,
    HistoryEntry,
    ResponsePublic,
    ResponseWrite,
    SubmitResult,
)
from models.assessment import AssessmentPublic
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation, submit_update_id, workflow_id
from workflows.payloads.application import (
    SubmitApplicationInput,
    WithdrawApplicationInput,
)
from workflows.payloads.review import CaseSnapshot

router = APIRouter(prefix="/v1/applications", tags=["applications"], route_class=ReadRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_application(
    body: ApplicationCreate, session: SessionDep, caller: Applicant
) -> dict[str, str]:
    """Start a draft on the template's latest version."""
    application = applications.create(session, caller, body.template_code, at=datetime.now(UTC))
    return {"id": application.id, "status": application.status}


@router.get("")
def list_applications(
    session: SessionDep,
    caller: ApplicationStaff,
    *,
    status: ApplicationStatus | None = None,
    stage: Code | None = None,
    overdue: bool | None = None,
    paging: PagingDep,
) -> Page[ApplicationSummary]:
    """Applications newest first (reviewers, assigners and other staff); `overdue=true`
    (assigners and admins): only those with a review past its due date, `false` the rest."""
    if overdue is not None and not caller.has(Role.ASSIGNER, Role.ADMIN):
        raise Forbidden("only assigners and admins filter applications by overdue reviews")
    return applications.get_all(
        session,
        status=status,
        stage=stage,
        limit=paging.limit,
        cursor=paging.cursor,
        overdue=overdue,
        now=datetime.now(UTC),
    )


@router.get("/{application_id}")
def get_application(
    application_id: Id, session: SessionDep, caller: CallerDep
) -> ApplicationPublic:
    """One application: its owner or staff."""
    return applications.get(session, caller, application_id)


@router.put("/{application_id}/responses/{element_code}")
def save_response(
    application_id: Id,
    element_code: Code,
    body: ResponseWrite,
    session: SessionDep,
    caller: CallerDep,
) -> ResponsePublic:
    """Answer an element while the application is a draft or has changes required."""
    return applications.save_response(
        session, caller, application_id, element_code, body.value, at=datetime.now(UTC)
    )


@router.post("/{application_id}/submit")
async def submit_application(
    application_id: Id,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: CallerDep,
) -> SubmitResult:
    """Submit (or resubmit): an update-with-start of the application's workflow."""
    handle = temporal.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, workflow_id(application_id)
    )
    if earlier := await commands.earlier_outcome(handle, CaseSnapshot):
        return SubmitResult(id=application_id, status=earlier.status, stage=earlier.stage)
    application, answers_digest = await run_in_threadpool(
        applications.prepare_submission, engine, caller, application_id
    )
    submission = application.submission_count + 1
    start = start_operation(
        applications.start_input(application),
        task_queue=settings.task_queue,
    )
    try:
        state = await temporal.execute_update_with_start_workflow(
            ApplicationReviewWorkflow.submit,
            SubmitApplicationInput(actor=caller.sub, submission=submission),
            start_workflow_operation=start,
            id=commands.update_id(submit_update_id(submission, answers_digest)),
        )
    except (WorkflowAlreadyStartedError, RPCError) as error:
        if isinstance(error, RPCError) and error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        raise Conflict("this application's review has finished; it cannot be submitted") from None
    return SubmitResult(id=application_id, status=state.status, stage=state.stage)


@router.post("/{application_id}/withdraw")
async def withdraw_application(
    application_id: Id, engine: EngineDep, temporal: TemporalDep, caller: CallerDep
) -> SubmitResult:
    """Withdraw: a draft directly, a submitted application through its workflow."""
    handle = temporal.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, workflow_id(application_id)
    )
    if earlier := await commands.earlier_outcome(handle, CaseSnapshot):
        return SubmitResult(id=application_id, status=earlier.status, stage=earlier.stage)
    application = await run_in_threadpool(
        applications.withdraw_draft, engine, caller, application_id, at=datetime.now(UTC)
    )
    if application.status == ApplicationStatus.WITHDRAWN:
        return SubmitResult(
            id=application_id, status=ApplicationStatus.WITHDRAWN, stage=application.stage
        )
    state = await handle.execute_update(
        ApplicationReviewWorkflow.withdraw,
        WithdrawApplicationInput(actor=caller.sub),
        id=commands.update_id("withdraw"),
    )
    return SubmitResult(id=application_id, status=state.status, stage=state.stage)


@router.get("/{application_id}/history")
def application_history(
    application_id: Id,
    session: SessionDep,
    caller: CallerDep,
    paging: PagingDep,
) -> Page[HistoryEntry]:
    """The audit trail, oldest first: who did what, when and why (the applicant: what
    was done for them)."""
    return applications.history(
        session, caller, application_id, limit=paging.limit, cursor=paging.cursor
    )


@router.get("/{application_id}/assessment")
def application_assessment(
    application_id: Id, session: SessionDep, caller: AssessmentReader
) -> AssessmentPublic:
    """The assessment created at the first submission (internal: an applicant gets 403)."""
    return applications.assessment(session, caller, application_id)
