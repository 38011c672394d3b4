"""Assignments and reviews: reads and draft writes on PostgreSQL, transitions via the workflow."""

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowHandle

from api import commands
from api.deps import EngineDep, PagingDep, SessionDep, TemporalDep
from api.fields import same_named
from api.pagination import Page
from api.roles import Assigner, ReviewStaff
from api.routing import ReadRoute
from api.services import review as reviews
from domain.access import Principal
from domain.values import Id
from models.review import (
    AssignmentPublic,
    ClaimBody,
    ReviewPublic,
    ReviewResponsePublic,
    ReviewResponseWrite,
    ReviewStartedPublic,
    ReviewSubmitBody,
    ReviewSubmitResult,
)
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import workflow_id
from workflows.payloads.review import (
    AssignInput,
    CaseSnapshot,
    StartReviewInput,
    SubmitReviewInput,
    UnassignInput,
)

router = APIRouter(tags=["assignments and reviews"], route_class=ReadRoute)


def _handle(
    temporal: Client, application_id: str
) -> WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]:
    return temporal.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, workflow_id(application_id)
    )


@router.get("/v1/applications/{application_id}/assignments")
def list_assignments(
    application_id: Id,
    session: SessionDep,
    caller: ReviewStaff,
    paging: PagingDep,
) -> Page[AssignmentPublic]:
    """Open assignment rows, one per granted user and reached stage level, by stage, level
    and reviewer."""
    return reviews.assignments(session, application_id, limit=paging.limit, cursor=paging.cursor)


async def _claim(
    assignment_id: Id,
    body: ClaimBody,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: Principal,
    *,
    by_assigner: bool,
) -> AssignmentPublic:
    application_id = await _owner(engine, "assignment", assignment_id)
    case = await _handle(temporal, application_id).execute_update(
        ApplicationReviewWorkflow.assign,
        AssignInput(
            assignment_id=assignment_id,
            actor=caller.sub,
            sections=body.sections,
            by_assigner=by_assigner,
        ),
        id=commands.update_id(),
    )
    return await _shown(engine, case, assignment_id)


@router.post("/v1/assignments/{assignment_id}/assign")
async def assign(
    assignment_id: Id,
    body: ClaimBody,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: Assigner,
) -> AssignmentPublic:
    """An assigner gives the row's reviewer these sections."""
    return await _claim(assignment_id, body, engine, temporal, caller, by_assigner=True)


@router.post("/v1/assignments/{assignment_id}/self-assign")
async def self_assign(
    assignment_id: Id,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: ReviewStaff,
    body: ClaimBody | None = None,
) -> AssignmentPublic:
    """The row's own reviewer takes sections (omitted: every available one)."""
    return await _claim(
        assignment_id, body or ClaimBody(), engine, temporal, caller, by_assigner=False
    )


@router.post("/v1/assignments/{assignment_id}/unassign")
async def unassign(
    assignment_id: Id, engine: EngineDep, temporal: TemporalDep, caller: Assigner
) -> AssignmentPublic:
    """Take the sections back; the review becomes DISCONTINUED."""
    application_id = await _owner(engine, "assignment", assignment_id)
    case = await _handle(temporal, application_id).execute_update(
        ApplicationReviewWorkflow.unassign,
        UnassignInput(assignment_id=assignment_id, actor=caller.sub),
        id=commands.update_id(),
    )
    return await _shown(engine, case, assignment_id)


@router.post("/v1/assignments/{assignment_id}/reviews", status_code=status.HTTP_201_CREATED)
async def start_review(
    assignment_id: Id,
    response: Response,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: ReviewStaff,
) -> ReviewStartedPublic:
    """Start the review (201), or restart it with the same id (200)."""
    application_id = await _owner(engine, "assignment", assignment_id)
    started = await _handle(temporal, application_id).execute_update(
        ApplicationReviewWorkflow.start_review,
        StartReviewInput(assignment_id=assignment_id, actor=caller.sub),
        id=commands.update_id(),
    )
    reviews.remember_owner("review", started.review_id, application_id)
    if not started.created:
        response.status_code = status.HTTP_200_OK
    return ReviewStartedPublic(review_id=started.review_id, status=started.status)


@router.get("/v1/reviews/{review_id}")
def get_review(review_id: Id, session: SessionDep, caller: ReviewStaff) -> ReviewPublic:
    """A review: responses, allowed decisions, whether it can be submitted, what is missing."""
    return reviews.review(session, review_id)


@router.put("/v1/reviews/{review_id}/responses/{target_id}")
def write_review_response(
    review_id: Id,
    target_id: Id,
    body: ReviewResponseWrite,
    session: SessionDep,
    caller: ReviewStaff,
) -> ReviewResponsePublic:
    """Decide one target of a DRAFT review (a draft write, no workflow)."""
    return reviews.write_response(
        session, caller.sub, review_id, target_id, body, at=datetime.now(UTC)
    )


@router.post("/v1/reviews/{review_id}/submit")
async def submit_review(
    review_id: Id,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: ReviewStaff,
    body: ReviewSubmitBody | None = None,
) -> ReviewSubmitResult:
    """Submit the review with its decision; 409 names the allowed decisions otherwise."""
    body = body or ReviewSubmitBody()
    application_id = await _owner(engine, "review", review_id)
    submitted = await _handle(temporal, application_id).execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(
            review_id=review_id, actor=caller.sub, decision=body.decision, comment=body.comment
        ),
        id=commands.update_id(),
    )
    case = submitted.snapshot
    return ReviewSubmitResult(
        review_id=review_id,
        status=submitted.review_status,
        application_status=case.status,
        **same_named(submitted, "review_status", "decision"),
        **same_named(case, "stage", "level"),
    )


async def _owner(engine: Engine, kind: str, key: str) -> str:
    """The application of assignment or review `key` (a read only when this process does
    not know it yet; 404 when the row does not exist)."""
    known = reviews.known_owner(kind, key)
    if known is None:
        known = await run_in_threadpool(reviews.owner_of, engine, kind, key)
        reviews.remember_owner(kind, key, known)
    return known


async def _shown(engine: Engine, case: CaseSnapshot, assignment_id: str) -> AssignmentPublic:
    """The row from the update's answer, or read after it when the answer lacks it."""
    shown = reviews.shown_assignment(case, assignment_id)
    if shown is None:
        shown = await run_in_threadpool(_public, engine, assignment_id)
    return shown


def _public(engine: Engine, assignment_id: str) -> AssignmentPublic:
    with Session(engine) as session:
        assignment = reviews.application_of_assignment(session, assignment_id)
        return reviews.assignment_public(session, assignment)
