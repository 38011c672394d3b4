"""Outcomes (results and certifications), release batches and rebookings (resits, retakes)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, Session, SQLModel

from domain.outcome import (
    MAX_BATCH_RELEASE,
    BatchItemState,
    BatchStatus,
    Grade,
    OutcomeKind,
    OutcomeStatus,
    RebookingKind,
    ReleaseMethod,
    ReleaseMode,
)
from domain.values import Id, Instant
from models.common import time_field
from models.enum_column import enum_field
from models.locking import lock_row

# The workflow of the outcome owns its schedule; a batch's schedule is "batch:{id}".
OWN_SCHEDULE = "outcome"


class Outcome(SQLModel, table=True):
    """A result (grade of one element) or a certification (grade of the candidate)."""

    __tablename__ = "outcomes"
    __table_args__ = (
        # Released exactly when a release instant and method are recorded.
        CheckConstraint(
            "(status = 'RELEASED') = (released_at IS NOT NULL AND release_method IS NOT NULL)",
            name="ck_outcomes_released",
        ),
        CheckConstraint("kind = 'certification' OR element_id IS NOT NULL", name="ck_outcomes_el"),
        Index("ix_outcomes_pending", "status", "completed_at"),
        # The reports' indexes (migration 0009).
        Index(
            "ix_outcomes_released",
            "released_at",
            "id",
            postgresql_include=[
                "kind",
                "grade",
                "release_method",
                "candidate_id",
                "element_id",
                "submitted_at",
                "component",
            ],
            postgresql_where=text("released_at IS NOT NULL"),
        ),
        Index(
            "ix_outcomes_release_method",
            "release_method",
            "released_at",
            "id",
            postgresql_where=text("released_at IS NOT NULL"),
        ),
        Index(
            "ix_outcomes_attempts",
            "candidate_id",
            "kind",
            text("coalesce(component, '')"),
            "submitted_at",
            "id",
            postgresql_include=["component"],
            postgresql_where=text("grade <> 'VOID'"),
        ),
        Index("ix_outcomes_submitted", "kind", "submitted_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=64)
    kind: OutcomeKind = enum_field(OutcomeKind, max_length=16)
    candidate_id: str = Field(foreign_key="candidates.id", max_length=64, index=True)
    element_id: str | None = Field(
        default=None, foreign_key="elements.id", max_length=64, index=True
    )
    # The element's component, filled by a trigger from `elements` (migration 0009).
    component: str | None = Field(default=None, max_length=64)
    grade: Grade = enum_field(Grade, max_length=16)
    sampled_for_qa: bool = False
    status: OutcomeStatus = enum_field(OutcomeStatus, max_length=32)
    amendments: int = 0
    revision: int = 0
    # False for outcomes loaded from before release tracking existed (backfilled as LEGACY).
    tracked: bool = True
    submitted_by: str = Field(max_length=128)
    submitted_at: datetime = time_field()
    completed_at: datetime | None = time_field(nullable=True)
    released_at: datetime | None = time_field(nullable=True)
    release_method: ReleaseMethod | None = enum_field(ReleaseMethod, max_length=16, nullable=True)
    scheduled_release_at: datetime | None = time_field(nullable=True)
    schedule_owner: str | None = Field(default=None, max_length=80)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()


class ReleaseBatch(SQLModel, table=True):
    """A bulk release (more than 100 outcomes), run by OutcomeReleaseBatchWorkflow."""

    __tablename__ = "release_batches"

    id: str = Field(primary_key=True, max_length=64)
    mode: ReleaseMode = enum_field(ReleaseMode, max_length=16)
    release_at: datetime | None = time_field(nullable=True)
    status: BatchStatus = enum_field(BatchStatus, max_length=16)
    total: int
    requested_by: str = Field(max_length=128)
    created_at: datetime = time_field()
    updated_at: datetime = time_field()
    completed_at: datetime | None = time_field(nullable=True)


class ReleaseBatchItem(SQLModel, table=True):
    """One outcome of a batch and what became of it."""

    __tablename__ = "release_batch_items"
    __table_args__ = (
        Index("ix_release_batch_items_state", "batch_id", "state", "position"),
        Index("ix_release_batch_items_outcome", "batch_id", "outcome_id"),
    )

    batch_id: str = Field(foreign_key="release_batches.id", primary_key=True, max_length=64)
    position: int = Field(primary_key=True)
    kind: OutcomeKind = enum_field(OutcomeKind, max_length=16)
    outcome_id: str = Field(max_length=64)
    state: BatchItemState = enum_field(
        BatchItemState, max_length=16, default=BatchItemState.PENDING
    )
    reason: str | None = Field(default=None, max_length=200)


class Rebooking(SQLModel, table=True):
    """A resit or retake booked on a released failed result."""

    __tablename__ = "rebookings"
    __table_args__ = (UniqueConstraint("kind", "result_id"),)

    id: str = Field(primary_key=True, max_length=64)
    kind: RebookingKind = enum_field(RebookingKind, max_length=16)
    result_id: str = Field(foreign_key="outcomes.id", max_length=64)
    requested_by: str = Field(max_length=128)
    created_at: datetime = time_field()


def lock_outcome(session: Session, kind: OutcomeKind, outcome_id: str) -> Outcome:
    """The outcome row, locked for the rest of the transaction."""
    where = (Outcome.id == outcome_id, Outcome.kind == kind)
    return lock_row(session, Outcome, *where, missing=f"{kind} {outcome_id} does not exist")


ACTION_KEY_PREFIX = "outcome-release"


def action_key(kind: str, outcome_id: str) -> str:
    """The key of the releaser's to-do for one pending outcome."""
    return ":".join((ACTION_KEY_PREFIX, kind, outcome_id))


def action_key_sql(kind: str, outcome_id: str) -> str:
    """`action_key` as a SQL expression over two columns (for raw SQL)."""
    return f"'{ACTION_KEY_PREFIX}:' || {kind} || ':' || {outcome_id}"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResultCreate(_Body):
    """POST /v1/results."""

    element_id: Id
    grade: Grade
    sampled_for_qa: bool = False


class CertificationCreate(_Body):
    """POST /v1/certifications."""

    candidate_id: Id
    grade: Grade
    sampled_for_qa: bool = False


class QaSignoff(_Body):
    """POST /v1/{results|certifications}/{id}/qa."""

    passed: bool
    release_with_qa: bool = False


class Amendment(_Body):
    """POST /v1/{results|certifications}/{id}/amend: the assessor's corrected grade."""

    grade: Grade


class OutcomeRef(_Body):
    """One outcome named in a release request."""

    kind: OutcomeKind
    id: Id


class ReleaseRequest(_Body):
    """POST /v1/outcome-releases."""

    outcomes: list[OutcomeRef] = PydanticField(min_length=1, max_length=MAX_BATCH_RELEASE)
    mode: ReleaseMode
    release_at: Instant | None = None


class ReleaseChange(_Body):
    """PATCH /v1/outcome-releases/{kind}/{id}: move the schedule, or release now."""

    mode: ReleaseMode
    release_at: Instant | None = None


class OutcomeInternal(BaseModel):
    """An outcome as internal users see it: the grade from submission, flagged while held."""

    id: str
    kind: OutcomeKind
    status: OutcomeStatus
    grade: Grade
    candidate_id: str
    element_id: str | None
    sampled_for_qa: bool
    pending_qa: bool
    pending_release: bool
    release_method: ReleaseMethod | None
    released_at: datetime | None
    scheduled_release_at: datetime | None
    completed_at: datetime | None
    submitted_at: datetime


class OutcomeExternalPending(BaseModel):
    """An unreleased outcome as external users see it: no grade, no dates."""

    id: str
    kind: OutcomeKind
    status: Literal["PENDING_QA"]
    candidate_id: str
    element_id: str | None


class OutcomeExternalReleased(BaseModel):
    """A released outcome as external users see it."""

    id: str
    kind: OutcomeKind
    status: Literal["RELEASED"]
    grade: Grade
    candidate_id: str
    element_id: str | None
    release_method: ReleaseMethod
    released_at: datetime


OutcomeView = OutcomeInternal | OutcomeExternalReleased | OutcomeExternalPending


class OutcomeListing(BaseModel):
    """What a listed outcome says of itself and its candidate (a list's or a report's first
    columns)."""

    kind: OutcomeKind
    id: str
    candidate_id: str
    candidate_name: str
    uln: str | None
    provider_id: str
    employer_id: str | None
    standard: str | None
    cohort: str | None
    component: str | None


class PendingRelease(OutcomeListing):
    """A row of the pending-release list (internal only)."""

    grade: Grade
    completed_at: datetime | None
    scheduled_release_at: datetime | None


class ReleaseItemResult(BaseModel):
    """What one outcome of a direct release request became."""

    kind: OutcomeKind
    id: str
    status: int
    detail: str | None = None
    outcome: OutcomeInternal | None = None


class ReleaseResults(BaseModel):
    """The answer to a direct release request (up to 100 outcomes)."""

    results: list[ReleaseItemResult]


class BatchAccepted(BaseModel):
    """The answer to a bulk release request (202)."""

    batch_id: str


class BatchProgress(BaseModel):
    """GET /v1/outcome-releases/batches/{id}."""

    id: str
    mode: ReleaseMode
    status: str
    release_at: datetime | None
    total: int
    pending: int
    scheduled: int
    released: int
    skipped: int
    skipped_reasons: dict[str, int]
    completed_at: datetime | None


class RebookingCreate(_Body):
    """POST /v1/resits and /v1/retakes."""

    result_id: Id


class RebookingPublic(BaseModel):
    """A booked resit or retake."""

    id: str
    kind: RebookingKind
    result_id: str
    created_at: datetime
