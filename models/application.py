"""Applications and their responses (one row per real change)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Field, Session, SQLModel, col, select

from domain.application import ApplicationOutcome, ApplicationStatus
from domain.values import Code, JsonValue
from models.common import json_field, time_field
from models.enum_column import enum_field
from models.event import Change


class Application(SQLModel, table=True):
    """An applicant's case, reviewed through the template's stages."""

    __tablename__ = "applications"

    id: str = Field(primary_key=True, max_length=64)
    template_code: str = Field(max_length=64, index=True)
    template_version: int
    applicant_id: str = Field(max_length=128, index=True)
    status: ApplicationStatus = enum_field(
        ApplicationStatus, max_length=32, default=ApplicationStatus.DRAFT, index=True
    )
    outcome: ApplicationOutcome | None = enum_field(
        ApplicationOutcome, max_length=32, nullable=True
    )
    outcome_reason: str | None = Field(default=None, max_length=64)
    stage: str | None = Field(default=None, max_length=64, index=True)
    level: int = 1
    submission_count: int = 0
    loq_round: int = 0
    revision: int = 0
    loq_deadline_at: datetime | None = time_field(nullable=True)
    created_at: datetime = time_field(index=True)
    updated_at: datetime = time_field()
    submitted_at: datetime | None = time_field(nullable=True)


class ApplicationResponse(SQLModel, table=True):
    """An answer; never edited after submission (a change is a new version)."""

    __tablename__ = "application_responses"
    __table_args__ = (UniqueConstraint("application_id", "element_code", "version"),)

    id: str = Field(primary_key=True, max_length=64)
    application_id: str = Field(foreign_key="applications.id", index=True, max_length=64)
    element_code: str = Field(max_length=64)
    version: int = 1
    value: Any = json_field(nullable=True)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
    submitted_at: datetime | None = time_field(nullable=True)


def latest_responses(session: Session, application_id: str) -> list[ApplicationResponse]:
    """The newest version of each element's response."""
    query = (
        select(ApplicationResponse)
        .where(ApplicationResponse.application_id == application_id)
        .ext(distinct_on(col(ApplicationResponse.element_code)))
        .order_by(col(ApplicationResponse.element_code), col(ApplicationResponse.version).desc())
    )
    return list(session.exec(query).all())


def mark_withdrawn(
    session: Session,
    application: Application,
    *,
    actor: str,
    at: datetime,
    reason: str | None,
    note: str | None = None,
) -> None:
    """Mark `application` withdrawn with its audit row and event (caller's transaction);
    an operator's `note` stays in the (internal) audit detail."""
    application.status = ApplicationStatus.WITHDRAWN
    application.updated_at = at
    session.add(application)
    key = f"application:{application.id}:withdrawn"
    Change("application", application.id, "withdrawn", actor, at, key).record(
        session,
        {"reason": reason},
        data={"application_id": application.id},
        audit_extra={"note": note} if note else None,
    )


class ApplicationCreate(BaseModel):
    """Body of POST /v1/applications."""

    model_config = ConfigDict(extra="forbid")

    template_code: Code


class ResponseWrite(BaseModel):
    """Body of PUT /v1/applications/{id}/responses/{element_code}."""

    model_config = ConfigDict(extra="forbid")

    value: JsonValue


class ResponsePublic(BaseModel):
    """The latest answer to one element."""

    element_code: str
    value: Any
    response_id: str


class QuestionPublic(BaseModel):
    """A declined answer sent back to the applicant in the current LOQ round."""

    element_code: str
    response_id: str
    comment: str | None
    failure_reason: str | None


class ApplicationPublic(BaseModel):
    """An application as its applicant and reviewers see it."""

    id: str
    status: ApplicationStatus
    outcome: str | None
    outcome_reason: str | None
    stage: str | None
    template_code: str
    template_version: int
    applicant_id: str
    responses: list[ResponsePublic]
    questions: list[QuestionPublic]
    loq_deadline_at: datetime | None
    created_at: datetime
    submitted_at: datetime | None


class ApplicationSummary(BaseModel):
    """A row of the application list."""

    id: str
    status: ApplicationStatus
    stage: str | None
    template_code: str
    template_version: int
    applicant_id: str
    created_at: datetime
    submitted_at: datetime | None


class SubmitResult(BaseModel):
    """Answer to a submit: where the application now stands."""

    id: str
    status: ApplicationStatus
    stage: str | None


class HistoryEntry(BaseModel):
    """One line of an audit trail."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
