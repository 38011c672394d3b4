"""Providers, employers, candidates and elements: plain records on PostgreSQL."""

import uuid
from datetime import datetime

from sqlmodel import Session, select

from api.commands import new_id
from api.idempotency import rerun_on_retry
from api.services.candidate_status import change_status
from domain.access import Principal
from domain.errors import Invalid, NotFound, field_error
from domain.outcome import is_active, may_see
from models.candidate import (
    Candidate,
    CandidateCreate,
    CandidatePublic,
    CandidateUpdate,
    Element,
    ElementCreate,
    ElementPublic,
    Employer,
    EmployerCreate,
    EmployerPublic,
    Provider,
    ProviderCreate,
    ProviderPublic,
    ProviderUpdate,
    lock_candidate,
)
from models.event import Change


def create_provider(session: Session, body: ProviderCreate, *, at: datetime) -> ProviderPublic:
    """A new provider (auto-releases outcomes unless told otherwise)."""
    with session.begin():
        provider = Provider(id=str(uuid.uuid4()), created_at=at, updated_at=at, **body.model_dump())
        session.add(provider)
    return ProviderPublic.model_validate(provider, from_attributes=True)


def update_provider(
    session: Session, provider_id: str, body: ProviderUpdate, *, actor: str, at: datetime
) -> ProviderPublic:
    """Change a provider; the release setting applies to outcomes completed from now on."""
    with session.begin():
        provider = session.exec(
            select(Provider).where(Provider.id == provider_id).with_for_update()
        ).one_or_none()
        if provider is None:
            raise NotFound(f"provider {provider_id} does not exist")
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        for name, value in changes.items():
            setattr(provider, name, value)
        provider.updated_at = at
        session.add(provider)
        key = f"provider:{provider.id}:updated:{at.isoformat()}"
        Change("provider", provider.id, "updated", actor, at, key).audit(session, changes)
    return ProviderPublic.model_validate(provider, from_attributes=True)


def get_provider(session: Session, caller: Principal, provider_id: str) -> ProviderPublic:
    """A provider: internal users, or the provider's own users."""
    provider = session.get(Provider, provider_id)
    if provider is None or not (caller.is_internal or caller.org == provider.id):
        raise NotFound(f"provider {provider_id} does not exist")
    return ProviderPublic.model_validate(provider, from_attributes=True)


def create_employer(session: Session, body: EmployerCreate, *, at: datetime) -> EmployerPublic:
    """A new employer."""
    with session.begin():
        employer = Employer(id=str(uuid.uuid4()), name=body.name, created_at=at)
        session.add(employer)
    return EmployerPublic.model_validate(employer, from_attributes=True)


def create_candidate(session: Session, body: CandidateCreate, *, at: datetime) -> CandidatePublic:
    """A new candidate of an existing provider (and employer, when given)."""
    with session.begin():
        errors = []
        if session.get(Provider, body.provider_id) is None:
            errors.append(field_error("provider_id", "no such provider"))
        if body.employer_id is not None and session.get(Employer, body.employer_id) is None:
            errors.append(field_error("employer_id", "no such employer"))
        if errors:
            raise Invalid("the candidate refers to records that do not exist", errors=errors)
        candidate = Candidate(
            id=str(uuid.uuid4()),
            created_at=at,
            updated_at=at,
            **body.model_dump(exclude={"status"}),
            status=body.status,
        )
        session.add(candidate)
    return candidate_public(candidate)


def update_candidate(
    session: Session, candidate_id: str, body: CandidateUpdate, *, actor: str, at: datetime
) -> tuple[CandidatePublic, CandidatePublic]:
    """Change status (pausing or resuming release to-dos) or the gateway approval date;
    the candidate before and after, read under the row lock."""
    with session.begin():
        candidate = lock_candidate(session, candidate_id)
        before = candidate_public(candidate)
        if body.gateway_approved_at is not None:
            candidate.gateway_approved_at = body.gateway_approved_at
        if body.status is not None:
            change_status(session, candidate, body.status, actor=actor, at=at)
        candidate.updated_at = at
        session.add(candidate)
    return before, candidate_public(candidate)


def get_candidate(session: Session, caller: Principal, candidate_id: str) -> CandidatePublic:
    """A candidate: internal users, or external users of its candidate/provider/employer org."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or not may_see(
        caller,
        candidate_id=candidate.id,
        provider_id=candidate.provider_id,
        employer_id=candidate.employer_id,
    ):
        raise NotFound(f"candidate {candidate_id} does not exist")
    return candidate_public(candidate)


def candidate_public(candidate: Candidate) -> CandidatePublic:
    """The candidate as readers see it."""
    status = candidate.status
    return CandidatePublic.model_validate(
        {**candidate.model_dump(), "status": status, "active": is_active(status)}
    )


def create_element(session: Session, body: ElementCreate, *, at: datetime) -> ElementPublic:
    """Schedule an assessment component for a candidate. Keyed, the element's id is the
    key's and a retry writes nothing twice, so it goes on to start the SLA that a crash
    (or Temporal down) kept the first attempt from starting."""
    element_id = new_id()
    with session.begin():
        rerun_on_retry(session)
        if (earlier := session.get(Element, element_id)) is not None:
            return ElementPublic.model_validate(earlier, from_attributes=True)
        if session.get(Candidate, body.candidate_id) is None:
            raise Invalid(
                "the candidate does not exist",
                errors=[field_error("candidate_id", "no such candidate")],
            )
        element = Element(id=element_id, created_at=at, **body.model_dump())
        session.add(element)
    return ElementPublic.model_validate(element, from_attributes=True)
