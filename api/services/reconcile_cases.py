"""What reconcile knows of each case kind: which rows are open, and how to restart or end
the workflow of one (each kind's workflow id is its business key)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select
from temporalio.common import TypedSearchAttributes

from api.services import checklist_sync as syncs
from api.services import induction as inductions
from domain.application import TERMINAL_STATUSES, ApplicationStatus
from domain.checklist_sync import SyncStatus
from domain.errors import NotFound
from models.application import Application
from models.checklist_sync import ChecklistSync
from models.induction import Induction
from workflows import application_start
from workflows.application import ApplicationReviewWorkflow
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.application import StartApplicationReviewInput
from workflows.payloads.checklist_sync import StartChecklistSyncInput
from workflows.payloads.common import Payload
from workflows.payloads.induction import StartInductionInput
from workflows.payloads.resumption import Resumption

M = TypeVar("M", bound=SQLModel)


class Standing(StrEnum):
    """Whether a row wants a running workflow."""

    OPEN = "open"  # its workflow must be running
    CLOSED = "closed"  # its workflow must have ended
    IDLE = "idle"  # either is fine (a draft: its workflow may wait for a first submit)


@dataclass(frozen=True)
class CaseRow:
    """One case as PostgreSQL holds it, by its workflow's id."""

    workflow_id: str
    label: str  # application, result, certification, sla, induction, release_batch, ...
    business_id: str
    state: str
    standing: Standing
    since: datetime  # its last change: rows changed a moment ago are left to settle
    subject_kind: str  # what its audit rows are filed under
    subject_id: str


@dataclass(frozen=True)
class StartSpec:
    """How to start a case's workflow again (same id) from its row."""

    workflow_type: str
    arg: Payload
    search_attributes: TypedSearchAttributes | None = None
    summary: str | None = None
    start_signal: str | None = None


@dataclass(frozen=True)
class EndSpec:
    """How to end the running workflow of a closed case: a signal it obeys, or terminate."""

    signal: str | None = None
    arg: Payload | None = None

    @property
    def action(self) -> str:
        """What the report says was (or would be) done."""
        return f"signal {self.signal}" if self.signal else "terminate"


class CaseKind:
    """One workflow type and the table whose rows say whether it should run."""

    workflow_type = ""
    prefix = ""
    label = ""
    ending = "terminate"  # what is done to a running workflow of a closed case

    def owns(self, workflow_id: str) -> bool:
        """Whether `workflow_id` is the id of one of this kind's workflows."""
        return workflow_id.startswith(self.prefix)

    def business_id(self, workflow_id: str) -> tuple[str, str]:
        """(label, business id) named by a workflow id."""
        return self.label, workflow_id.removeprefix(self.prefix)

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Every row whose workflow must be running."""
        raise NotImplementedError

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The rows (in any state) of these workflows; absent ones are left out."""
        raise NotImplementedError

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """The start input, rebuilt from the database, that resumes the case."""
        raise NotImplementedError

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """How a running workflow of a closed case is ended (terminate unless overridden)."""
        return EndSpec()


def stored(session: Session, model: type[M], key: str) -> M:
    """The row by its key (it may have been deleted since the scan: then NotFound)."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{model.__name__} {key} is no longer in the database")
    return found


def ids_of(kind: CaseKind, workflow_ids: Sequence[str]) -> list[str]:
    return [wid.removeprefix(kind.prefix) for wid in workflow_ids if wid.startswith(kind.prefix)]


class ApplicationCases(CaseKind):
    """Submitted applications (SUBMITTED, CHANGES_REQUIRED) run ApplicationReviewWorkflow."""

    workflow_type = ApplicationReviewWorkflow.__name__
    prefix = "application-"
    label = "application"
    OPEN = (ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUIRED)

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Submitted applications not completed or withdrawn."""
        return self._rows(session, col(Application.status).in_(self.OPEN))

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The applications of these workflows."""
        return self._rows(session, col(Application.id).in_(ids_of(self, workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.exec(
            select(Application.id, Application.status, Application.updated_at).where(where)
        ).all()
        return [self._row(*row) for row in found]

    def _row(self, application_id: str, status: str, since: datetime) -> CaseRow:
        standing = (
            Standing.CLOSED
            if ApplicationStatus(status) in TERMINAL_STATUSES
            else Standing.OPEN
            if status in self.OPEN
            else Standing.IDLE
        )
        return CaseRow(
            application_start.workflow_id(application_id),
            self.label,
            application_id,
            status,
            standing,
            since,
            "application",
            application_id,
        )

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Template and applicant from the row; the workflow loads the rest itself."""
        application = stored(session, Application, row.business_id)
        start = StartApplicationReviewInput(
            application_id=application.id,
            template_code=application.template_code,
            template_version=application.template_version,
            applicant_id=application.applicant_id,
            resumed=resumed,
        )
        return StartSpec(
            self.workflow_type,
            start,
            application_start.search_attributes(start, application.status),
            application_start.summary(start),
        )


class InductionCases(CaseKind):
    """Every registered teacher runs InductionRegistrationWorkflow (it never closes yet)."""

    workflow_type = InductionRegistrationWorkflow.__name__
    prefix = "induction-"
    label = "induction"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Every registration."""
        return self._rows(session, True)

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The registrations of these workflows."""
        return self._rows(session, col(Induction.trn).in_(ids_of(self, workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.exec(select(Induction.trn, Induction.updated_at).where(where)).all()
        return [
            CaseRow(
                inductions.workflow_id(trn),
                self.label,
                trn,
                "REGISTERED",
                Standing.OPEN,
                since,
                "induction",
                trn,
            )
            for trn, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """The teacher; the workflow reloads the reports, the claim and the reminder."""
        days = inductions.get_induction_settings().induction_ab_claim_reminder_days
        start = StartInductionInput(
            trn=row.business_id, ab_claim_reminder_days=days, resumed=resumed
        )
        return StartSpec(
            self.workflow_type,
            start,
            inductions.search_attributes(),
            inductions.summary(row.business_id, days),
        )


class SyncCases(CaseKind):
    """Check-list syncs still RUNNING run ChecklistSyncWorkflow."""

    workflow_type = ChecklistSyncWorkflow.__name__
    prefix = "checklist-sync-"
    label = "checklist_sync"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Syncs that have not ended."""
        return self._rows(session, col(ChecklistSync.status) == SyncStatus.RUNNING)

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The syncs of these workflows."""
        return self._rows(session, col(ChecklistSync.id).in_(ids_of(self, workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.exec(
            select(ChecklistSync.id, ChecklistSync.status, ChecklistSync.updated_at).where(where)
        ).all()
        return [
            CaseRow(
                syncs.workflow_id(sync_id),
                self.label,
                sync_id,
                status,
                Standing.OPEN if status == SyncStatus.RUNNING else Standing.CLOSED,
                since,
                "checklist_sync",
                sync_id,
            )
            for sync_id, status, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Scope and actor from the row; opening finds it, and pages go on from its cursor."""
        sync = stored(session, ChecklistSync, row.business_id)
        start = StartChecklistSyncInput(
            sync_id=sync.id,
            template_code=sync.template_code,
            dry_run=sync.dry_run,
            actor=sync.actor,
            resumed=resumed,
        )
        return StartSpec(
            self.workflow_type, start, syncs.search_attributes(start), syncs.summary(start)
        )
