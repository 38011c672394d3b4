"""Results and certifications: submit, QA, amend and read (reads follow one visibility rule)."""

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api import commands
from api.deps import EngineDep, PagingDep, SessionDep, SettingsDep, TemporalDep
from api.fields import same_named
from api.pagination import Page
from api.roles import OutcomeAssessor, OutcomeReader, Qa, Rebooker
from api.routing import ReadRoute, add_route
from api.services import outcome as outcomes
from api.services.candidate_status import StatusChange, follow_status
from domain.access import Principal
from domain.outcome import (
    OutcomeKind,
    RebookingKind,
    check_release_with_qa_roles,
)
from domain.values import Id
from models.outcome import (
    Amendment,
    CertificationCreate,
    OutcomeView,
    QaSignoff,
    RebookingCreate,
    RebookingPublic,
    ResultCreate,
)
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_start import start_operation, workflow_id
from workflows.payloads.common import Payload
from workflows.payloads.outcome import (
    AmendOutcomeInput,
    QaSignoffInput,
    StartOutcomeReleaseInput,
    SubmitOutcomeInput,
)

router = APIRouter(prefix="/v1", tags=["outcomes"], route_class=ReadRoute)
Submission = ResultCreate | CertificationCreate


async def _submit(
    engine: Engine,
    temporal: Client,
    task_queue: str,
    caller: Principal,
    body: Submission,
) -> OutcomeView:
    """Check the references (a result's element, a certification's candidate), then an
    update-with-start of the outcome's workflow."""
    if isinstance(body, ResultCreate):
        kind, element_id, candidate_id = OutcomeKind.RESULT, body.element_id, None
    else:
        kind, element_id, candidate_id = OutcomeKind.CERTIFICATION, None, body.candidate_id

    def target() -> tuple[str, str]:
        with Session(engine) as session:
            candidate, _ = outcomes.submission_target(
                session, element_id=element_id, candidate_id=candidate_id
            )
            return candidate.id, candidate.provider_id

    candidate, provider = await run_in_threadpool(target)
    outcome_id = commands.new_id()
    start = StartOutcomeReleaseInput(
        kind=kind,
        outcome_id=outcome_id,
        candidate_id=candidate,
        provider_id=provider,
        grade=body.grade,
    )
    await temporal.execute_update_with_start_workflow(
        OutcomeReleaseWorkflow.submit,
        SubmitOutcomeInput(
            actor=caller.sub,
            candidate_id=candidate,
            element_id=element_id,
            **same_named(body, "grade", "sampled_for_qa"),
        ),
        start_workflow_operation=start_operation(start, task_queue=task_queue),
        id="submit",
    )
    return await run_in_threadpool(_read, engine, caller, kind, outcome_id)


def _read(engine: Engine, caller: Principal, kind: OutcomeKind, outcome_id: str) -> OutcomeView:
    with Session(engine) as session:
        return outcomes.get(session, caller, kind, outcome_id)


async def _update(
    engine: Engine,
    temporal: Client,
    caller: Principal,
    kind: OutcomeKind,
    outcome_id: str,
    update: Any,
    arg: Payload,
) -> OutcomeView:
    """Send `update` to the outcome's workflow (404 first when the caller cannot see it)."""
    await run_in_threadpool(_read, engine, caller, kind, outcome_id)
    handle = temporal.get_workflow_handle_for(
        OutcomeReleaseWorkflow.run, workflow_id(kind, outcome_id)
    )
    await handle.execute_update(update, arg, id=commands.update_id())
    return await run_in_threadpool(_read, engine, caller, kind, outcome_id)


def _submit_route(kind: OutcomeKind, body_type: type[Submission], description: str) -> None:
    async def submit(
        body: Submission,
        engine: EngineDep,
        temporal: TemporalDep,
        settings: SettingsDep,
        caller: OutcomeAssessor,
    ) -> OutcomeView:
        return await _submit(engine, temporal, settings.task_queue, caller, body)

    submit.__annotations__["body"] = body_type  # the kind's own body (and schema)
    route = router.post(f"/{kind}s", status_code=status.HTTP_201_CREATED)
    add_route(route, submit, f"submit_{kind}", description)


_submit_route(
    OutcomeKind.RESULT,
    ResultCreate,
    "Submit a result: QA when sampled, else complete (released at once or pending).",
)
_submit_route(
    OutcomeKind.CERTIFICATION,
    CertificationCreate,
    "Save a certification: the same path as a result.",
)


def _list_route(kind: OutcomeKind, description: str) -> None:
    def list_kind(
        session: SessionDep,
        caller: OutcomeReader,
        *,
        candidate_id: Id | None = None,
        paging: PagingDep,
    ) -> Page[OutcomeView]:
        return outcomes.get_all(
            session, caller, kind, candidate_id=candidate_id, **dataclasses.asdict(paging)
        )

    add_route(router.get(f"/{kind}s"), list_kind, f"list_{kind}s", description)


def _get_route(kind: OutcomeKind, description: str) -> None:
    def get_kind(outcome_id: Id, session: SessionDep, caller: OutcomeReader) -> OutcomeView:
        return outcomes.get(session, caller, kind, outcome_id)

    add_route(router.get(f"/{kind}s/{{outcome_id}}"), get_kind, f"get_{kind}", description)


def _qa_route(kind: OutcomeKind, description: str) -> None:
    async def qa(
        outcome_id: Id, body: QaSignoff, engine: EngineDep, temporal: TemporalDep, caller: Qa
    ) -> OutcomeView:
        check_release_with_qa_roles(caller, release_with_qa=body.release_with_qa)
        signoff = QaSignoffInput(actor=caller.sub, **body.model_dump())
        update = OutcomeReleaseWorkflow.qa_signoff
        return await _update(engine, temporal, caller, kind, outcome_id, update, signoff)

    add_route(router.post(f"/{kind}s/{{outcome_id}}/qa"), qa, f"qa_{kind}", description)


def _amend_route(kind: OutcomeKind, description: str) -> None:
    async def amend(
        outcome_id: Id,
        body: Amendment,
        engine: EngineDep,
        temporal: TemporalDep,
        caller: OutcomeAssessor,
    ) -> OutcomeView:
        amended = AmendOutcomeInput(actor=caller.sub, grade=body.grade)
        update = OutcomeReleaseWorkflow.amend
        return await _update(engine, temporal, caller, kind, outcome_id, update, amended)

    add_route(router.post(f"/{kind}s/{{outcome_id}}/amend"), amend, f"amend_{kind}", description)


# Each route per kind, in this order (the OpenAPI document lists them so).
_KIND_ROUTES: list[tuple[Callable[[OutcomeKind, str], None], dict[OutcomeKind, str]]] = [
    (
        _list_route,
        {
            OutcomeKind.RESULT: "Results the caller may see, newest first (external users: "
            "grades once released).",
            OutcomeKind.CERTIFICATION: "Certifications the caller may see, newest first.",
        },
    ),
    (
        _get_route,
        {
            OutcomeKind.RESULT: "One result as the caller may see it.",
            OutcomeKind.CERTIFICATION: "One certification as the caller may see it.",
        },
    ),
    (
        _qa_route,
        {
            OutcomeKind.RESULT: "QA sign-off; `release_with_qa` needs qa + releaser and a "
            "provider that holds outcomes.",
            OutcomeKind.CERTIFICATION: "QA sign-off of a certification.",
        },
    ),
    (
        _amend_route,
        {
            OutcomeKind.RESULT: "After a failed QA: the corrected grade goes back to QA.",
            OutcomeKind.CERTIFICATION: "After a failed QA: the corrected certification grade "
            "goes back to QA.",
        },
    ),
]
for _add, _descriptions in _KIND_ROUTES:
    for _kind, _description in _descriptions.items():
        _add(_kind, _description)


@router.post("/resits", status_code=status.HTTP_201_CREATED)
def book_resit(body: RebookingCreate, session: SessionDep, caller: Rebooker) -> RebookingPublic:
    """Rebook a failed element: refused (409) until the failed result is released."""
    booking, _ = outcomes.rebook(
        session, caller, RebookingKind.RESIT, body.result_id, at=datetime.now(UTC)
    )
    return booking


@router.post("/retakes", status_code=status.HTTP_201_CREATED)
async def book_retake(
    body: RebookingCreate, engine: EngineDep, temporal: TemporalDep, caller: Rebooker
) -> RebookingPublic:
    """Put the candidate into retake review (its SLAs and release to-dos pause): refused
    (409) until the result is released."""
    booking, change = await run_in_threadpool(_book_retake, engine, caller, body.result_id)
    if change is not None:
        await follow_status(engine, temporal, change.candidate_id)
    return booking


def _book_retake(
    engine: Engine, caller: Principal, result_id: str
) -> tuple[RebookingPublic, StatusChange | None]:
    with Session(engine) as session:
        return outcomes.rebook(
            session, caller, RebookingKind.RETAKE, result_id, at=datetime.now(UTC)
        )
