"""Induction registrations: reports as received, claims, discrepancies, and their API shapes."""

import uuid
from datetime import date, datetime
from typing import Any, Self, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, Session, SQLModel, col, select

from domain.induction import (
    SOURCE_OF,
    DiscrepancyField,
    DiscrepancyFieldName,
    Effective,
    InductionOutcome,
    InductionStatus,
    ProgrammeType,
    Report,
    ReportKind,
    Source,
    discrepancy_field,
)
from domain.values import Day, OrgId
from models.common import public_id_field, time_field
from models.enum_column import enum_field
from models.views import view_of


class Induction(SQLModel, table=True):
    """One teacher's registration: the row every change locks, with its revision."""

    __tablename__ = "inductions"

    trn: str = Field(primary_key=True, max_length=16)
    revision: int = 0
    # Written with the outcome that closes it (the reports stay the truth; reconcile and
    # the API read these without folding every report).
    status: InductionStatus = enum_field(
        InductionStatus, max_length=16, default=InductionStatus.OPEN
    )
    outcome: InductionOutcome | None = enum_field(InductionOutcome, max_length=16, nullable=True)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


class InductionReport(SQLModel, table=True):
    """A report exactly as received; never updated (`seq`: arrival order per teacher)."""

    __tablename__ = "induction_reports"
    __table_args__ = (
        UniqueConstraint("trn", "seq"),
        # At most one outcome closes a teacher's induction, whatever the race.
        Index(
            "uq_induction_reports_closing",
            "trn",
            unique=True,
            postgresql_where=text("kind = 'outcome' AND outcome IN ('PASSED', 'FAILED')"),
        ),
    )

    id: str = Field(primary_key=True, max_length=64)
    trn: str = Field(foreign_key="inductions.trn", max_length=16)
    seq: int
    kind: ReportKind = enum_field(ReportKind, max_length=32)
    reporter: str = Field(max_length=128, index=True)
    actor: str = Field(max_length=128)
    appropriate_body_id: str | None = Field(default=None, max_length=128)
    programme_type: ProgrammeType | None = enum_field(ProgrammeType, max_length=32, nullable=True)
    start_date: Day | None = None
    started_on: date | None = None
    outcome: InductionOutcome | None = enum_field(InductionOutcome, max_length=16, nullable=True)
    completed_on: date | None = None
    received_at: datetime = time_field()

    def as_report(self) -> Report:
        """The domain view of this row."""
        return view_of(Report, self, at=self.received_at)


class InductionClaim(SQLModel, table=True):
    """An AB's claim; at most one open (unreleased) per teacher, enforced by the database."""

    __tablename__ = "induction_claims"
    __table_args__ = (
        Index(
            "uq_induction_claims_open",
            "trn",
            unique=True,
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=64)
    trn: str = Field(foreign_key="inductions.trn", max_length=16, index=True)
    appropriate_body_id: str = Field(max_length=128)
    claimed_at: datetime = time_field()
    released_at: datetime | None = time_field(nullable=True)


class InductionDiscrepancy(SQLModel, table=True):
    """The AB's value differs from the school's; at most one open per (teacher, field)."""

    __tablename__ = "induction_discrepancies"
    __table_args__ = (
        Index(
            "uq_induction_discrepancies_open",
            "trn",
            "field",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    public_id: uuid.UUID | None = public_id_field()
    key: str = Field(max_length=200, unique=True)
    trn: str = Field(foreign_key="inductions.trn", max_length=16, index=True)
    field: DiscrepancyFieldName = enum_field(DiscrepancyFieldName, max_length=32)
    school_value: str | None = Field(default=None, max_length=128)
    school_reporter: str = Field(max_length=128)
    ab_value: str | None = Field(default=None, max_length=128)
    ab_reporter: str = Field(max_length=128)
    detected_at: datetime = time_field()
    resolved_at: datetime | None = time_field(nullable=True)
    resolution: str | None = Field(default=None, max_length=32)


T = TypeVar("T", InductionReport, InductionDiscrepancy)


def _rows_of(session: Session, model: type[T], trn: str, *where: Any, order: Any = None) -> list[T]:
    """The rows of `model` that belong to teacher `trn` (and `where`), in `order`."""
    query = select(model).where(col(model.trn) == trn, *where)
    return list(session.exec(query if order is None else query.order_by(order)).all())


def reports_of(session: Session, trn: str) -> list[InductionReport]:
    """Every report of `trn` in arrival order."""
    return _rows_of(session, InductionReport, trn, order=col(InductionReport.seq))


def discrepancies_of(session: Session, trn: str) -> list[InductionDiscrepancy]:
    """Every discrepancy of `trn`, oldest first."""
    return _rows_of(session, InductionDiscrepancy, trn, order=col(InductionDiscrepancy.id))


def open_discrepancies_of(session: Session, trn: str) -> list[InductionDiscrepancy]:
    """The discrepancies of `trn` not resolved yet."""
    unresolved = col(InductionDiscrepancy.resolved_at).is_(None)
    return _rows_of(session, InductionDiscrepancy, trn, unresolved)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchoolReportCreate(_Body):
    """Body of POST /v1/inductions/{trn}/school-reports."""

    school_id: OrgId
    appropriate_body_id: OrgId
    programme_type: ProgrammeType
    start_date: Day


class AbClaimCreate(_Body):
    """Body of POST /v1/inductions/{trn}/ab-claims."""

    appropriate_body_id: OrgId
    programme_type: ProgrammeType
    started_on: Day


class AbReleaseCreate(_Body):
    """Optional body of POST /v1/inductions/{trn}/ab-releases (the AB defaults to the token's)."""

    appropriate_body_id: OrgId | None = None


class InductionOutcomeCreate(_Body):
    """Body of POST /v1/inductions/{trn}/outcomes (the AB is the token's organisation)."""

    outcome: InductionOutcome
    completed_on: Day


class MigratedReportCreate(_Body):
    """Body of POST /v1/inductions/{trn}/migrated-reports: at least one value."""

    appropriate_body_id: OrgId | None = None
    programme_type: ProgrammeType | None = None
    start_date: Day | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if all(value is None for _, value in self):
            raise ValueError("give at least one of appropriate_body_id, programme_type, start_date")
        return self


class ReportPublic(BaseModel):
    """One report as received."""

    id: str
    kind: ReportKind
    source: Source
    reporter: str
    actor: str
    appropriate_body_id: str | None
    programme_type: ProgrammeType | None
    start_date: date | None
    started_on: date | None
    outcome: InductionOutcome | None = None
    completed_on: date | None = None
    received_at: datetime


class ReportedValue(BaseModel):
    """One side of a discrepancy."""

    value: str | None
    source: Source
    reporter: str


class DiscrepancyPublic(BaseModel):
    """A field on which the AB and the school disagree(d)."""

    id: str
    field: DiscrepancyField
    school: ReportedValue
    appropriate_body: ReportedValue
    detected_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class InductionPublic(BaseModel):
    """GET /v1/inductions/{trn}: effective values, every report, every discrepancy."""

    trn: str
    status: InductionStatus
    outcome: InductionOutcome | None = pydantic.Field(
        description="the outcome that closed it; RELEASED while no AB has claimed since one"
    )
    completed_on: date | None = None
    effective: Effective
    claimed_by: str | None
    reports: list[ReportPublic] = pydantic.Field(default_factory=list)
    discrepancies: list[DiscrepancyPublic] = pydantic.Field(default_factory=list)


class ReportReceipt(BaseModel):
    """Answer to a report, claim or release: the report's id and the values now effective."""

    trn: str
    report_id: str
    status: InductionStatus = InductionStatus.OPEN
    outcome: InductionOutcome | None = None
    effective: Effective
    claimed_by: str | None
    open_discrepancies: list[DiscrepancyField]


def report_public(row: InductionReport) -> ReportPublic:
    """The API shape of a stored report."""
    return view_of(ReportPublic, row, source=SOURCE_OF[row.kind])


def discrepancy_public(row: InductionDiscrepancy) -> DiscrepancyPublic:
    """The API shape of a stored discrepancy."""
    return DiscrepancyPublic(
        id=str(row.public_id),
        field=discrepancy_field(row.field),
        school=ReportedValue(
            value=row.school_value, source=Source.SCHOOL, reporter=row.school_reporter
        ),
        appropriate_body=ReportedValue(
            value=row.ab_value, source=Source.APPROPRIATE_BODY, reporter=row.ab_reporter
        ),
        detected_at=row.detected_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )
