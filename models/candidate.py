"""Providers, employers, candidates (apprentices) and their assessment elements."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, Session, SQLModel

from domain.outcome import CandidateStatus
from domain.values import Id, Instant, Label, Name
from models.common import time_field
from models.enum_column import enum_field
from models.locking import lock_row


class Provider(SQLModel, table=True):
    """A training provider; `auto_release_outcomes` decides whether outcomes wait for release."""

    __tablename__ = "providers"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    auto_release_outcomes: bool = True
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


class Employer(SQLModel, table=True):
    """A candidate's employer (its users see the candidate's released outcomes)."""

    __tablename__ = "employers"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime = time_field()


class Candidate(SQLModel, table=True):
    """An apprentice going through end-point assessment."""

    __tablename__ = "candidates"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    uln: str | None = Field(default=None, max_length=32, index=True)
    provider_id: str = Field(foreign_key="providers.id", max_length=64, index=True)
    employer_id: str | None = Field(
        default=None, foreign_key="employers.id", max_length=64, index=True
    )
    standard: str | None = Field(default=None, max_length=64)
    cohort: str | None = Field(default=None, max_length=64)
    status: CandidateStatus = enum_field(CandidateStatus, max_length=32)
    gateway_approved_at: datetime | None = time_field(nullable=True)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


def lock_candidate(session: Session, candidate_id: str, *, shared: bool = False) -> Candidate:
    """The candidate row, locked for the transaction (`shared`: a status change waits)."""
    missing = f"candidate {candidate_id} does not exist"
    return lock_row(
        session, Candidate, Candidate.id == candidate_id, missing=missing, shared=shared
    )


class Element(SQLModel, table=True):
    """One assessment component scheduled for a candidate (a result grades it)."""

    __tablename__ = "elements"

    id: str = Field(primary_key=True, max_length=64)
    candidate_id: str = Field(foreign_key="candidates.id", max_length=64, index=True)
    component: str = Field(max_length=64)
    scheduled_at: datetime = time_field()
    created_at: datetime = time_field()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderCreate(_Body):
    """POST /v1/providers."""

    name: Name
    auto_release_outcomes: bool = True


class ProviderUpdate(_Body):
    """PATCH /v1/providers/{id}: applies to outcomes completed from now on."""

    name: Name | None = None
    auto_release_outcomes: bool | None = None


class ProviderPublic(BaseModel):
    """A provider as readers see it."""

    id: str
    name: str
    auto_release_outcomes: bool


class EmployerCreate(_Body):
    """POST /v1/employers."""

    name: Name


class EmployerPublic(BaseModel):
    """An employer as readers see it."""

    id: str
    name: str


class CandidateCreate(_Body):
    """POST /v1/candidates."""

    name: Name
    uln: Label | None = PydanticField(default=None, max_length=32)
    provider_id: Id
    employer_id: Id | None = None
    standard: Label | None = None
    cohort: Label | None = None
    status: CandidateStatus


class CandidateUpdate(_Body):
    """PATCH /v1/candidates/{id}: a status change pauses or resumes release actions."""

    status: CandidateStatus | None = None
    gateway_approved_at: Instant | None = None


class CandidatePublic(BaseModel):
    """A candidate as readers see it."""

    id: str
    name: str
    uln: str | None
    provider_id: str
    employer_id: str | None
    standard: str | None
    cohort: str | None
    status: CandidateStatus
    active: bool
    gateway_approved_at: datetime | None


class ElementCreate(_Body):
    """POST /v1/elements."""

    candidate_id: Id
    component: Label
    scheduled_at: Instant


class ElementPublic(BaseModel):
    """An element as readers see it."""

    id: str
    candidate_id: str
    component: str
    scheduled_at: datetime
