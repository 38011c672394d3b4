"""SLA definitions (versioned), instances, and the append-only log each instance is timed from."""

from datetime import datetime

import pydantic
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Field, Session, SQLModel, col, select

from domain.outcome import CandidateStatus, is_active
from domain.sla import SlaEvent, SlaEventKind, SlaStatus, catch_up
from models.candidate import Candidate
from models.common import json_field, time_field
from models.enum_column import enum_field


class SlaDefinition(SQLModel, table=True):
    """One version of a timed service level; instances keep the version they started on."""

    __tablename__ = "sla_definitions"

    code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    start_event: str = Field(max_length=64)
    stop_event: str = Field(max_length=64)
    pause_rule: str = Field(max_length=64)
    goal_s: int
    warning_fractions: list[float] = json_field(default=list)
    published_at: datetime = time_field()


class SlaInstance(SQLModel, table=True):
    """One timed subject (a result, certification, element or candidate)."""

    __tablename__ = "sla_instances"
    __table_args__ = (
        UniqueConstraint("definition", "subject"),
        Index("ix_sla_instances_started", "started_at", "id"),  # the SLA report's order
    )

    id: str = Field(primary_key=True, max_length=200)
    definition: str = Field(max_length=64, index=True)
    version: int
    subject: str = Field(max_length=64, index=True)
    candidate_id: str | None = Field(default=None, max_length=64, index=True)
    status: SlaStatus = enum_field(SlaStatus, max_length=16, default=SlaStatus.RUNNING)
    goal_s: int
    started_at: datetime = time_field()
    stopped_at: datetime | None = time_field(nullable=True)
    breached_at: datetime | None = time_field(nullable=True)
    warned: list[float] = json_field(default=list)


class SlaLogEntry(SQLModel, table=True):
    """START, PAUSE, RESUME or STOP: elapsed time is derived from these rows, never stored."""

    __tablename__ = "sla_log"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="sla_instances.id", max_length=200)
    seq: int
    kind: SlaEventKind = enum_field(SlaEventKind, max_length=8)
    at: datetime = time_field()


class SlaPublic(BaseModel):
    """An SLA instance as `GET /v1/slas` shows it."""

    definition: str
    version: int
    subject: str
    status: SlaStatus
    started_at: datetime
    stopped_at: datetime | None
    elapsed_s: float
    paused_s: float
    goal_s: int
    breached_at: datetime | None
    warned: list[float]


class SlaDefinitionCreate(BaseModel):
    """Body of `POST /v1/sla-definitions/{code}`: its next version (goal and warnings)."""

    model_config = ConfigDict(extra="forbid")

    goal_s: int = pydantic.Field(gt=0, le=10 * 365 * 86400)
    warning_fractions: list[float] = pydantic.Field(
        default_factory=lambda: [0.5, 0.75], max_length=10
    )

    @pydantic.field_validator("warning_fractions")
    @classmethod
    def _fractions_inside_the_goal(cls, fractions: list[float]) -> list[float]:
        if any(not 0 < f < 1 for f in fractions):
            raise ValueError("each warning fraction must be between 0 and 1")
        return sorted(set(fractions))


def log_of(session: Session, instance_id: str) -> list[SlaEvent]:
    """The instance's log rows in order."""
    rows = session.exec(
        select(SlaLogEntry)
        .where(SlaLogEntry.instance_id == instance_id)
        .order_by(col(SlaLogEntry.seq))
    ).all()
    return [SlaEvent(row.kind, row.at) for row in rows]


def slas_out_of_step(session: Session) -> list[str]:
    """Running SLAs whose log disagrees with their candidate's status (a signal lost in a
    crash after the status was committed): reconcile sends them `candidate_changed`."""
    rows = session.exec(
        select(SlaInstance.id, SlaLogEntry.kind, SlaLogEntry.at, Candidate.status)
        .join(SlaLogEntry, col(SlaLogEntry.instance_id) == col(SlaInstance.id))
        .join(Candidate, col(Candidate.id) == col(SlaInstance.candidate_id))
        .where(col(SlaInstance.stopped_at).is_(None))
        .order_by(col(SlaInstance.id), col(SlaLogEntry.seq).desc())
        .ext(distinct_on(col(SlaInstance.id)))
    ).all()
    return [
        instance_id
        for instance_id, kind, at, status in rows
        if catch_up(
            [SlaEvent(SlaEventKind(kind), at)],
            candidate_active=is_active(CandidateStatus(status)),
        )
        is not None
    ]
