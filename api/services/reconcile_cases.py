"""What reconcile knows of each case kind: which rows are open, and how to restart or end
the workflow of one (each kind's workflow id is its business key)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import select as select_columns
from sqlmodel import Session, SQLModel, col
from temporalio.common import TypedSearchAttributes

from api.fields import same_named
from api.services import checklist_sync as syncs
from api.services import induction as inductions
from api.services.application import start_input as application_start_input
from domain.application import TERMINAL_STATUSES, ApplicationStatus
from domain.checklist_sync import SyncStatus
from domain.errors import NotFound
from domain.induction import InductionStatus
from models.application import Application
from models.checklist_sync import ChecklistSync
from models.induction import Induction
from workflows import application_start
from workflows.application import ApplicationReviewWorkflow
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.induction import InductionRegistrationWorkflow
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

    def spec(self, start: Payload, attributes: TypedSearchAttributes, summary: str) -> StartSpec:
        """This kind's workflow started with `start`, shown by `attributes` and `summary`."""
        return StartSpec(self.workflow_type, start, attributes, summary)

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """How a running workflow of a closed case is ended (terminate unless overridden)."""
        return EndSpec()


class TableCases(CaseKind):
    """A kind whose cases are the rows of one table, each keyed by its workflow id's tail
    (`prefix` + key) and filed under the kind's label in the audit trail."""

    model: Any = None  # the table
    key = "id"
    open_states: frozenset[str] = frozenset()  # its workflow must be running
    idle_states: frozenset[str] = frozenset()  # either is fine; in any other it must have ended

    def open_where(self) -> Any:
        """Which rows want a running workflow."""
        return self.state().in_(sorted(self.open_states))

    def state(self) -> Any:
        """The column a row's state is read from."""
        return col(self.model.status)

    def standing(self, state: str) -> Standing:
        """Whether a row in `state` wants its workflow running."""
        if state in self.open_states:
            return Standing.OPEN
        return Standing.IDLE if state in self.idle_states else Standing.CLOSED

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Every row whose workflow must be running."""
        return self._rows(session, self.open_where())

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The rows (in any state) of these workflows; absent ones are left out."""
        key = col(getattr(self.model, self.key))
        return self._rows(session, key.in_(ids_of(self, workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        key = col(getattr(self.model, self.key))
        columns = select_columns(key, self.state(), col(self.model.updated_at))
        found = session.execute(columns.where(where)).all()
        return [self._row(str(key), str(state), since) for key, state, since in found]

    def _row(self, key: str, state: str, since: datetime) -> CaseRow:
        standing = self.standing(state)
        return CaseRow(self.prefix + key, self.label, key, state, standing, since, self.label, key)

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """The start input rebuilt from the case's row (gone since the scan: NotFound)."""
        return self.start_from(stored(session, self.model, row.business_id), resumed)

    def start_from(self, found: Any, resumed: Resumption) -> StartSpec:
        """The start input rebuilt from the row `found`."""
        raise NotImplementedError


def stored(session: Session, model: type[M], key: str) -> M:
    """The row by its key (it may have been deleted since the scan: then NotFound)."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{model.__name__} {key} is no longer in the database")
    return found


def ids_of(kind: CaseKind, workflow_ids: Sequence[str]) -> list[str]:
    return [wid.removeprefix(kind.prefix) for wid in workflow_ids if wid.startswith(kind.prefix)]


class ApplicationCases(TableCases):
    """Submitted applications (SUBMITTED, CHANGES_REQUIRED) run ApplicationReviewWorkflow."""

    workflow_type = ApplicationReviewWorkflow.__name__
    prefix = "application-"
    label = "application"
    open_states = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUIRED})
    idle_states = frozenset(ApplicationStatus) - TERMINAL_STATUSES - open_states  # drafts

    model = Application

    def start_from(self, found: Any, resumed: Resumption) -> StartSpec:
        """Template and applicant from the row; the workflow loads the rest itself."""
        start = application_start_input(found, resumed)
        return self.spec(
            start,
            application_start.search_attributes(start, found.status),
            application_start.summary(start),
        )


class InductionCases(TableCases):
    """An OPEN induction runs InductionRegistrationWorkflow; a CLOSED one's has completed."""

    workflow_type = InductionRegistrationWorkflow.__name__
    prefix = "induction-"
    label = "induction"

    model = Induction
    key = "trn"
    open_states = frozenset({InductionStatus.OPEN})

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """The teacher; the workflow reloads the reports, the claim and the reminder."""
        days = inductions.get_induction_settings().induction_ab_claim_reminder_days
        start = StartInductionInput(
            trn=row.business_id, ab_claim_reminder_days=days, resumed=resumed
        )
        return self.spec(
            start,
            inductions.search_attributes(),
            inductions.summary(row.business_id, days),
        )


class SyncCases(TableCases):
    """Check-list syncs still RUNNING run ChecklistSyncWorkflow."""

    workflow_type = ChecklistSyncWorkflow.__name__
    prefix = "checklist-sync-"
    label = "checklist_sync"

    model = ChecklistSync
    open_states = frozenset({SyncStatus.RUNNING})

    def start_from(self, found: Any, resumed: Resumption) -> StartSpec:
        """Scope and actor from the row; opening finds it, and pages go on from its cursor."""
        fields = same_named(found, "template_code", "dry_run", "actor")
        start = StartChecklistSyncInput(sync_id=found.id, resumed=resumed, **fields)
        return self.spec(start, syncs.search_attributes(start), syncs.summary(start))
