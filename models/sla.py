"""SLA definitions (versioned), instances, and the append-only log each instance is timed from."""

from datetime import date, datetime

import pydantic
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Field, Session, SQLModel, col, select

from domain.calendar import (
    MAX_HOLIDAYS,
    BusinessCalendar,
    parse_week,
    week_text,
    zone_problem,
)
from domain.outcome import CandidateStatus, is_active
from domain.sla import SlaEvent, SlaEventKind, SlaStatus, catch_up
from domain.values import Code
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
    calendar: str | None = Field(default=None, max_length=64)  # counts working time only
    published_at: datetime = time_field()


class SlaCalendar(SQLModel, table=True):
    """One version of a business calendar; an SLA keeps the version it started on."""

    __tablename__ = "sla_calendars"

    code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    timezone: str = Field(max_length=64)
    working_hours: dict[str, list[list[str]]] = json_field(default=dict)
    holidays: list[str] = json_field(default=list)  # ISO dates, sorted
    published_at: datetime = time_field()

    def rules(self) -> BusinessCalendar:
        """The calendar as the working-time arithmetic takes it."""
        return BusinessCalendar(
            self.timezone,
            parse_week(self.working_hours),
            frozenset(date.fromisoformat(day) for day in self.holidays),
        )


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
    calendar: str | None = Field(default=None, max_length=64)
    calendar_version: int | None = None
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
    calendar: str | None = None  # with a calendar, elapsed, paused and goal are working time
    calendar_version: int | None = None


class SlaDefinitionCreate(BaseModel):
    """Body of `POST /v1/sla-definitions/{code}`: its next version (goal and warnings)."""

    model_config = ConfigDict(extra="forbid")

    goal_s: int = pydantic.Field(gt=0, le=10 * 365 * 86400)
    warning_fractions: list[float] = pydantic.Field(
        default_factory=lambda: [0.5, 0.75], max_length=10
    )

    calendar: Code | None = None  # the code of an SLA calendar: time counts working time only

    @pydantic.field_validator("warning_fractions")
    @classmethod
    def _fractions_inside_the_goal(cls, fractions: list[float]) -> list[float]:
        if any(not 0 < f < 1 for f in fractions):
            raise ValueError("each warning fraction must be between 0 and 1")
        return sorted(set(fractions))


class SlaCalendarCreate(BaseModel):
    """Body of `POST /v1/sla-calendars/{code}`: its next version."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = pydantic.Field(max_length=64)
    working_hours: dict[str, list[list[str]]]
    holidays: list[str] = pydantic.Field(default_factory=list, max_length=MAX_HOLIDAYS)

    @pydantic.field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        problem = zone_problem(timezone)
        if problem is not None:
            raise ValueError(problem)
        return timezone

    @pydantic.field_validator("working_hours")
    @classmethod
    def _sound_week(cls, hours: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        return week_text(parse_week(hours))

    @pydantic.field_validator("holidays")
    @classmethod
    def _real_dates(cls, holidays: list[str]) -> list[str]:
        for index, day in enumerate(holidays):
            try:
                if len(day) != 10:
                    raise ValueError(day)
                date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"holidays[{index}]: {day!r} is not a date YYYY-MM-DD") from None
        return sorted(set(holidays))


class SlaCalendarPublic(BaseModel):
    """A calendar version as `GET /v1/sla-calendars/{code}` shows it."""

    code: str
    version: int
    timezone: str
    working_hours: dict[str, list[list[str]]]
    holidays: list[str]
    published_at: datetime


def zone_in_database(session: Session, timezone: str) -> bool:
    """Whether PostgreSQL knows the zone too (the report's SQL counts working time in it)."""
    found = session.execute(
        text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :zone)"),
        {"zone": timezone},
    ).scalar()
    return bool(found)


def latest_calendar(session: Session, code: str, *, lock: bool = False) -> SlaCalendar | None:
    """The newest version of calendar `code` (None when there is none)."""
    statement = (
        select(SlaCalendar)
        .where(SlaCalendar.code == code)
        .order_by(col(SlaCalendar.version).desc())
        .limit(1)
    )
    return session.exec(statement.with_for_update() if lock else statement).first()


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
