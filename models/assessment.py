"""Assessments: one per submitted application, a section per template section."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.application import AssessmentStatus
from models.common import json_field, time_field
from models.enum_column import enum_field


class Assessment(SQLModel, table=True):
    """The reviewers' side of an application."""

    __tablename__ = "assessments"

    id: str = Field(primary_key=True, max_length=64)
    application_id: str = Field(foreign_key="applications.id", unique=True, max_length=64)
    template_code: str = Field(max_length=64, index=True)
    template_version: int
    status: AssessmentStatus = enum_field(AssessmentStatus, max_length=32, index=True)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


class AssessmentSection(SQLModel, table=True):
    """A snapshot of a template section's checks and failure reasons."""

    __tablename__ = "assessment_sections"
    __table_args__ = (UniqueConstraint("assessment_id", "code"),)

    id: str = Field(primary_key=True, max_length=64)
    assessment_id: str = Field(foreign_key="assessments.id", index=True, max_length=64)
    code: str = Field(max_length=64)
    title: str = Field(max_length=500)
    position: int
    preliminary: bool = False
    checks: list[str] = json_field(default=list)
    failure_reasons: list[dict[str, Any]] = json_field(default=list)
    passed: bool | None = None
    selected_failure_reasons: list[str] = json_field(default=list)
    retired_at: datetime | None = time_field(nullable=True)


class AssessmentSectionPublic(BaseModel):
    """One section of an assessment: its checks, reasons and verdict."""

    code: str
    title: str
    preliminary: bool
    checks: list[str]
    failure_reasons: list[dict[str, Any]]
    passed: bool | None
    selected_failure_reasons: list[str]


class AssessmentPublic(BaseModel):
    """An application's assessment."""

    id: str
    status: str
    template_code: str
    template_version: int
    sections: list[AssessmentSectionPublic]
