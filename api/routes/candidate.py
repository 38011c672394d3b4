"""Providers, employers, candidates and elements (the records outcomes hang on)."""

from datetime import UTC, datetime

from fastapi import APIRouter, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.roles import RecordsReader, Registrar, StatusSetter
from api.routing import ReadRoute
from api.services import candidate as records
from api.services import sla as slas
from api.services.candidate_status import follow_status
from domain.errors import NotFound
from domain.values import Id
from models.candidate import (
    CandidateCreate,
    CandidatePublic,
    CandidateUpdate,
    Element,
    ElementCreate,
    ElementPublic,
    EmployerCreate,
    EmployerPublic,
    ProviderCreate,
    ProviderPublic,
    ProviderUpdate,
)
from workflows.payloads.sla import StartSlaInput

router = APIRouter(prefix="/v1", tags=["candidates"], route_class=ReadRoute)


@router.post("/providers", status_code=status.HTTP_201_CREATED)
def create_provider(body: ProviderCreate, session: SessionDep, caller: Registrar) -> ProviderPublic:
    """A training provider (auto-releases outcomes unless `auto_release_outcomes` is false)."""
    return records.create_provider(session, body, at=datetime.now(UTC))


@router.patch("/providers/{provider_id}")
def update_provider(
    provider_id: Id, body: ProviderUpdate, session: SessionDep, caller: Registrar
) -> ProviderPublic:
    """Change a provider; outcomes already pending release stay pending."""
    return records.update_provider(
        session, provider_id, body, actor=caller.sub, at=datetime.now(UTC)
    )


@router.get("/providers/{provider_id}")
def get_provider(provider_id: Id, session: SessionDep, caller: RecordsReader) -> ProviderPublic:
    """A provider: internal users, or the provider's own users."""
    return records.get_provider(session, caller, provider_id)


@router.post("/employers", status_code=status.HTTP_201_CREATED)
def create_employer(body: EmployerCreate, session: SessionDep, caller: Registrar) -> EmployerPublic:
    """An employer of candidates."""
    return records.create_employer(session, body, at=datetime.now(UTC))


@router.post("/candidates", status_code=status.HTTP_201_CREATED)
def create_candidate(
    body: CandidateCreate, session: SessionDep, caller: Registrar
) -> CandidatePublic:
    """A candidate of a provider (and employer)."""
    return records.create_candidate(session, body, at=datetime.now(UTC))


@router.patch("/candidates/{candidate_id}")
async def update_candidate(
    candidate_id: Id,
    body: CandidateUpdate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: StatusSetter,
) -> CandidatePublic:
    """Status (an inactive candidate's release to-dos and SLAs pause) or gateway approval
    (which starts the candidate's time-in-EPA SLA)."""
    before, after = await run_in_threadpool(
        _update_candidate, engine, candidate_id, body, caller.sub
    )
    if body.status is not None:  # even unchanged: a retry after a crash catches up
        await follow_status(engine, temporal, candidate_id)
    if after.gateway_approved_at is not None and before.gateway_approved_at is None:
        start = StartSlaInput(
            definition=slas.EPA_SLA, subject=candidate_id, candidate_id=candidate_id
        )
        await slas.start_sla(temporal, start, task_queue=settings.task_queue)
    return after


def _update_candidate(
    engine: Engine, candidate_id: str, body: CandidateUpdate, actor: str
) -> tuple[CandidatePublic, CandidatePublic]:
    with Session(engine) as session:
        return records.update_candidate(
            session, candidate_id, body, actor=actor, at=datetime.now(UTC)
        )


@router.get("/candidates/{candidate_id}")
def get_candidate(candidate_id: Id, session: SessionDep, caller: RecordsReader) -> CandidatePublic:
    """A candidate: internal users, or its own candidate, provider or employer users."""
    return records.get_candidate(session, caller, candidate_id)


@router.post("/elements", status_code=status.HTTP_201_CREATED)
async def create_element(
    body: ElementCreate,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Registrar,
) -> ElementPublic:
    """An assessment component scheduled for a candidate (its release SLA starts now)."""
    element = await run_in_threadpool(_create_element, engine, body)
    start = StartSlaInput(
        definition=slas.ELEMENT_SLA, subject=element.id, candidate_id=element.candidate_id
    )
    await slas.start_sla(temporal, start, task_queue=settings.task_queue)
    return element


def _create_element(engine: Engine, body: ElementCreate) -> ElementPublic:
    with Session(engine) as session:
        return records.create_element(session, body, at=datetime.now(UTC))


@router.get("/elements/{element_id}")
def get_element(element_id: Id, session: SessionDep, caller: RecordsReader) -> ElementPublic:
    """An element: whoever may see its candidate."""
    element = session.get(Element, element_id)
    if element is None:
        raise NotFound(f"element {element_id} does not exist")
    records.get_candidate(session, caller, element.candidate_id)
    return ElementPublic.model_validate(element, from_attributes=True)
