"""Applications and their responses (one row per real change)."""

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.application import ApplicationStatus
from models.common import json_field, time_field


class Application(SQLModel, table=True):
    """An applicant's case, reviewed through the template's stages."""

    __tablename__ = "applications"

    id: str = Field(primary_key=True, max_length=64)
    template_code: str = Field(max_length=64, index=True)
    template_version: int
    applicant_id: str = Field(max_length=128, index=True)
    status: str = Field(default=ApplicationStatus.DRAFT.value, max_length=32, index=True)
    outcome: str | None = Field(default=None, max_length=32)
    outcome_reason: str | None = Field(default=None, max_length=64)
    stage: str | None = Field(default=None, max_length=64, index=True)
    submission_count: int = 0
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
