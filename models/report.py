"""Report rows (the same fields in JSON and CSV) and the filters reports share."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from domain.outcome import Grade, OutcomeKind, ReleaseMethod
from domain.report import TrackingDate
from domain.sla import SlaStatus
from domain.values import Code, Id, Label
from models.outcome import OutcomeListing

Row = TypeVar("Row", bound=BaseModel)


class PassFailRow(BaseModel):
    """Released outcomes of one kind on one release day: passes, fails and voids."""

    date: date
    kind: OutcomeKind
    passed: int
    failed: int
    void: int
    total: int
    pass_rate: float | None


class FirstTimePassRow(BaseModel):
    """First attempts released on one day, and how many of them passed."""

    date: date
    kind: OutcomeKind
    first_attempts: int
    first_time_passes: int
    first_time_pass_rate: float | None


class OutcomeReleaseRow(OutcomeListing):
    """One release: what was released, for whom, how and when."""

    grade: Grade
    release_method: ReleaseMethod
    completed_at: datetime | None
    released_at: datetime


class SlaReportRow(BaseModel):
    """One timed subject: its definition version, times, and whether it breached."""

    definition: str
    version: int
    name: str
    subject: str
    candidate_id: str | None
    status: SlaStatus
    started_at: datetime
    stopped_at: datetime | None
    elapsed_s: float
    paused_s: float
    goal_s: int
    breached: bool
    breached_at: datetime | None
    calendar: str | None = None  # with a calendar, elapsed, paused and goal are working time
    calendar_version: int | None = None


class ResultTrackingRow(OutcomeListing):
    """One outcome's progress. External users get no grade, status detail or date of an
    outcome not yet released (status `PENDING_QA`)."""

    element_scheduled_at: datetime | None
    submitted_at: datetime
    status: str
    grade: Grade | None
    completed_at: datetime | None
    outcome_released: bool
    available_date: datetime | None
    release_method: ReleaseMethod | None
    scheduled_release_at: datetime | None


class ReportPage(BaseModel, Generic[Row]):
    """One page of a report; pass `next_cursor` back as `cursor` for the next."""

    report: str
    items: list[Row]
    next_cursor: str | None = None


@dataclass(frozen=True)
class OutcomeFilters:
    """Filters every outcome report takes (`from` inclusive, `to` exclusive)."""

    from_at: datetime | None = None
    to_at: datetime | None = None
    kind: OutcomeKind | None = None
    provider_id: Id | None = None
    employer_id: Id | None = None
    candidate_id: Id | None = None
    standard: Label | None = None
    cohort: Label | None = None
    component: Label | None = None
    method: ReleaseMethod | None = None
    tz: str = "UTC"
    date_field: TrackingDate = TrackingDate.SUBMITTED


@dataclass(frozen=True)
class SlaFilters:
    """Filters of the SLA report (`from`/`to` bound the start)."""

    from_at: datetime | None = None
    to_at: datetime | None = None
    definition: Code | None = None
    subject: Id | None = None
    candidate_id: Id | None = None
    status: SlaStatus | None = None
    breached: bool | None = None
