"""Check-list sync runs and the section changes each found (kept here, not in payloads)."""

import json
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    String,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
    cast,
    func,
)
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, Session, SQLModel, col, select

from domain.checklist_sync import ELIGIBLE_STATUSES, ChangeRowKind, SyncStatus
from domain.values import Code
from models.assessment import Assessment, AssessmentSection
from models.common import json_field, time_field
from models.enum_column import enum_field


class ChecklistSync(SQLModel, table=True):
    """One sync run: its scope, its counts, and where its pages stand."""

    __tablename__ = "checklist_syncs"

    id: str = Field(primary_key=True, max_length=128)
    template_code: str | None = Field(default=None, max_length=64)
    dry_run: bool = False
    status: SyncStatus = enum_field(SyncStatus, max_length=16, index=True)
    actor: str = Field(max_length=128)
    # The latest published version of each template when the sync opened, used throughout.
    template_versions: dict[str, int] = json_field(default=dict)
    total: int = 0
    found: int = 0
    synced: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    cursor: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=2000)
    started_at: datetime = time_field()
    updated_at: datetime = time_field()
    finished_at: datetime | None = time_field(nullable=True)


class ChecklistSyncChange(SQLModel, table=True):
    """One section that a sync changed (or, in a dry run, would change); or one failure."""

    __tablename__ = "checklist_sync_changes"
    __table_args__ = (
        UniqueConstraint("sync_id", "assessment_id", "section"),
        Index("ix_checklist_sync_changes_sync", "sync_id", "kind", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    sync_id: str = Field(foreign_key="checklist_syncs.id", max_length=128)
    application_id: str = Field(max_length=64)
    assessment_id: str = Field(max_length=64)
    section: str = Field(max_length=64)  # FAILED_SECTION for a failure
    kind: ChangeRowKind = enum_field(ChangeRowKind, max_length=16)
    before: dict[str, Any] | None = json_field(nullable=True)
    after: dict[str, Any] | None = json_field(nullable=True)
    error: str | None = Field(default=None, max_length=2000)


FAILED_KIND = ChangeRowKind.FAILED
FAILED_SECTION = "*"


class ChecklistSyncCreate(BaseModel):
    """Body of POST /v1/checklist-syncs."""

    model_config = {"extra": "forbid"}

    template_code: Code | None = PydanticField(default=None, description="only this template")
    dry_run: bool = PydanticField(default=False, description="report changes, write none")


class ChecklistSyncStarted(BaseModel):
    """Answer to a start: the sync's id (GET /v1/checklist-syncs/{id})."""

    id: str


class ChecklistSyncChangePublic(BaseModel):
    """One section's lists before and after (either is null when added or retired)."""

    application_id: str
    section: str
    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ChecklistSyncFailurePublic(BaseModel):
    """An assessment the sync could not process (the rest of its page went on)."""

    application_id: str
    error: str | None


class ChecklistSyncPublic(BaseModel):
    """A sync's progress and, page by page, its changes."""

    id: str
    status: SyncStatus
    dry_run: bool
    template_code: str | None
    total: int
    found: int
    synced: int
    unchanged: int
    skipped: int
    failed: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    changes_total: int
    changes: list[ChecklistSyncChangePublic]
    failures: list[ChecklistSyncFailurePublic]


def get(session: Session, sync_id: str) -> ChecklistSync | None:
    """The sync's row, if it has opened."""
    return session.get(ChecklistSync, sync_id)


def changes_of(
    session: Session, sync_id: str, *, limit: int, offset: int
) -> tuple[int, list[ChecklistSyncChange], list[ChecklistSyncChange]]:
    """(number of changes, a slice of them in order, every failure) of one sync."""

    base = select(ChecklistSyncChange).where(ChecklistSyncChange.sync_id == sync_id)
    not_failed = col(ChecklistSyncChange.kind) != FAILED_KIND
    total = session.exec(
        select(func.count())
        .select_from(ChecklistSyncChange)
        .where(ChecklistSyncChange.sync_id == sync_id, not_failed)
    ).one()
    page = session.exec(
        base.where(not_failed).order_by(col(ChecklistSyncChange.id)).offset(offset).limit(limit)
    ).all()
    failures = session.exec(
        base.where(ChecklistSyncChange.kind == FAILED_KIND).order_by(col(ChecklistSyncChange.id))
    ).all()
    return total, list(page), list(failures)


def lock(session: Session, sync_id: str) -> ChecklistSync | None:
    """The sync's row, locked: one page of one sync is written at a time."""
    return session.exec(
        select(ChecklistSync).where(ChecklistSync.id == sync_id).with_for_update()
    ).first()


def eligible_filter(template_code: str | None) -> list[Any]:
    """WHERE clauses for assessments a sync (scoped to `template_code`) may still rewrite."""
    clauses: list[Any] = [col(Assessment.status).in_(sorted(ELIGIBLE_STATUSES))]
    if template_code is not None:
        clauses.append(Assessment.template_code == template_code)
    return clauses


def count_eligible(session: Session, template_code: str | None) -> int:
    """How many assessments are eligible right now (the progress bar's length)."""
    return session.exec(
        select(func.count()).select_from(Assessment).where(*eligible_filter(template_code))
    ).one()


def eligible_page(
    session: Session, template_code: str | None, cursor: str | None, size: int
) -> list[str]:
    """The next `size` eligible assessment ids after `cursor`, in id order (keyset paging)."""
    query = select(Assessment.id).where(*eligible_filter(template_code))
    if cursor is not None:
        query = query.where(col(Assessment.id) > cursor)
    return list(session.exec(query.order_by(col(Assessment.id)).limit(size)).all())


def still_eligible(session: Session, ids: list[str], *, lock: bool) -> list[Assessment]:
    """Those of `ids` still eligible, row-locked (`lock`) until the transaction ends.

    The status test and the lock are one statement: a review that started meanwhile
    either committed first (the row no longer matches, so it is skipped) or waits for us.
    """
    query = (
        select(Assessment)
        .where(col(Assessment.id) == any_array(ids), *eligible_filter(None))
        .order_by(col(Assessment.id))
    )
    return list(session.exec(query.with_for_update() if lock else query).all())


class SectionRow(NamedTuple):
    """The columns of one assessment section a sync reads (no ORM object: a page reads ~1,500)."""

    assessment_id: str
    code: str
    preliminary: bool
    retired_at: datetime | None
    checks: Any
    failure_reasons: Any
    selected_failure_reasons: Any


def any_array(ids: list[str]) -> Any:
    """`ANY(:ids)` with one array parameter: unlike `IN (…)` with a parameter per id, the
    statement stays short and the same for every page (the driver caches its parsing)."""
    return any_(bindparam("ids", ids, type_=ARRAY(String())))


def sections_of(session: Session, ids: list[str]) -> dict[str, list[SectionRow]]:
    """Every section of the assessments `ids`, by assessment id (read as plain rows).

    The JSON lists are read as text and each distinct text is parsed once per call: a
    page's sections mostly hold the same few lists, so equal lists are the same object
    (callers must not mutate them) and a planner can tell equal states apart by identity.
    """
    found: dict[str, list[SectionRow]] = {assessment_id: [] for assessment_id in ids}
    parsed: dict[str | None, Any] = {None: None}

    def load(value: str | None) -> Any:
        if value not in parsed:
            parsed[value] = json.loads(value)  # type: ignore[arg-type]
        return parsed[value]

    rows = session.execute(
        select_columns(
            col(AssessmentSection.assessment_id),
            col(AssessmentSection.code),
            col(AssessmentSection.preliminary),
            col(AssessmentSection.retired_at),
            cast(col(AssessmentSection.checks), Text),
            cast(col(AssessmentSection.failure_reasons), Text),
            cast(col(AssessmentSection.selected_failure_reasons), Text),
        ).where(col(AssessmentSection.assessment_id) == any_array(ids))
    ).all()
    for row in rows:
        assessment_id, code, preliminary, retired_at, checks, reasons, selected = row
        found[assessment_id].append(
            SectionRow(
                assessment_id,
                code,
                preliminary,
                retired_at,
                load(checks),
                load(reasons),
                load(selected),
            )
        )
    return found
