"""What reconcile knows of each case kind: which rows are open, and how to restart or end
the workflow of one (each kind's workflow id is its business key)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.services import checklist_sync as syncs
from api.services import induction as inductions
from core import temporal as keys
from domain.application import TERMINAL_STATUSES, ApplicationStatus
from domain.checklist_sync import SyncStatus
from domain.errors import NotFound
from domain.outcome import (
    CandidateStatus,
    Grade,
    OutcomeKind,
    OutcomeStatus,
    ReleaseMethod,
    ReleaseMode,
)
from domain.outcome import is_active as candidate_active
from domain.sla import SlaEventKind
from models.application import Application
from models.candidate import Candidate
from models.checklist_sync import ChecklistSync
from models.induction import Induction
from models.outcome import Outcome, ReleaseBatch
from models.sla import SlaInstance, log_of
from workflows import application_start, outcome_start
from workflows.application import ApplicationReviewWorkflow
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.induction import InductionRegistrationWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.payloads.application import StartApplicationReviewInput
from workflows.payloads.checklist_sync import StartChecklistSyncInput
from workflows.payloads.common import Payload
from workflows.payloads.induction import StartInductionInput
from workflows.payloads.outcome import (
    OutcomeReleasedNotice,
    StartOutcomeReleaseInput,
    StartReleaseBatchInput,
)
from workflows.payloads.resumption import Resumption
from workflows.payloads.sla import StartSlaInput
from workflows.sla import SlaWorkflow

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


def _stored(session: Session, model: type[M], key: str) -> M:
    """The row by its key (it may have been deleted since the scan: then NotFound)."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{model.__name__} {key} is no longer in the database")
    return found


def _ids(kind: CaseKind, workflow_ids: Sequence[str]) -> list[str]:
    return [wid.removeprefix(kind.prefix) for wid in workflow_ids if wid.startswith(kind.prefix)]


class ApplicationCases(CaseKind):
    """Submitted applications (SUBMITTED, CHANGES_REQUIRED) run ApplicationReviewWorkflow."""

    workflow_type = ApplicationReviewWorkflow.__name__
    prefix = "application-"
    label = "application"
    OPEN = (ApplicationStatus.SUBMITTED.value, ApplicationStatus.CHANGES_REQUIRED.value)

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Submitted applications not completed or withdrawn."""
        return self._rows(session, col(Application.status).in_(self.OPEN))

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The applications of these workflows."""
        return self._rows(session, col(Application.id).in_(_ids(self, workflow_ids)))

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
        application = _stored(session, Application, row.business_id)
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


class OutcomeCases(CaseKind):
    """Tracked outcomes not released yet run OutcomeReleaseWorkflow."""

    workflow_type = OutcomeReleaseWorkflow.__name__

    def owns(self, workflow_id: str) -> bool:
        """`result-{id}` or `certification-{id}`."""
        return workflow_id.startswith(tuple(f"{kind.value}-" for kind in OutcomeKind))

    def business_id(self, workflow_id: str) -> tuple[str, str]:
        """`result-{id}` or `certification-{id}`."""
        label, _, outcome_id = workflow_id.partition("-")
        return label, outcome_id

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Outcomes in QA, amendment or waiting for release (legacy ones never had one)."""
        return self._rows(
            session,
            col(Outcome.tracked).is_(True),
            col(Outcome.status) != OutcomeStatus.RELEASED.value,
        )

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The outcomes of these workflows."""
        wanted = set(workflow_ids)
        ids = [self.business_id(wid)[1] for wid in workflow_ids]
        rows = self._rows(session, col(Outcome.id).in_(ids))
        return [row for row in rows if row.workflow_id in wanted]

    def _rows(self, session: Session, *where: Any) -> list[CaseRow]:
        found = session.exec(
            select(Outcome.id, Outcome.kind, Outcome.status, Outcome.updated_at).where(*where)
        ).all()
        return [
            CaseRow(
                outcome_start.workflow_id(kind, outcome_id),
                kind,
                outcome_id,
                status,
                Standing.CLOSED if status == OutcomeStatus.RELEASED.value else Standing.OPEN,
                since,
                kind,
                outcome_id,
            )
            for outcome_id, kind, status, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Kind, candidate, provider and grade from the row."""
        outcome = _stored(session, Outcome, row.business_id)
        candidate = _stored(session, Candidate, outcome.candidate_id)
        start = StartOutcomeReleaseInput(
            kind=OutcomeKind(outcome.kind),
            outcome_id=outcome.id,
            candidate_id=outcome.candidate_id,
            provider_id=candidate.provider_id,
            grade=Grade(outcome.grade),
            resumed=resumed,
        )
        return StartSpec(
            self.workflow_type,
            start,
            outcome_start.search_attributes(start, outcome.status),
            outcome_start.summary(start),
        )

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """Released (by a batch whose signal was lost): the workflow finishes its own way."""
        outcome = _stored(session, Outcome, row.business_id)
        assert outcome.released_at is not None  # RELEASED rows have both (a check constraint)
        assert outcome.release_method is not None
        notice = OutcomeReleasedNotice(
            revision=outcome.revision,
            released_at=outcome.released_at,
            release_method=ReleaseMethod(outcome.release_method),
        )
        return EndSpec("released", notice)


class SlaCases(CaseKind):
    """SLA instances not stopped run SlaWorkflow (id = the instance's id)."""

    workflow_type = SlaWorkflow.__name__
    prefix = "sla-"
    label = "sla"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Instances running, paused, or breached and still timed."""
        return self._rows(session, col(SlaInstance.stopped_at).is_(None))

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The instances of these workflows."""
        return self._rows(session, col(SlaInstance.id).in_(list(workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.exec(select(SlaInstance).where(where)).all()
        return [
            CaseRow(
                sla.id,
                self.label,
                sla.id.removeprefix(self.prefix),
                sla.status,
                Standing.OPEN if sla.stopped_at is None else Standing.CLOSED,
                sla.started_at,
                "sla",
                sla.subject,
            )
            for sla in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Definition and subject from the row; the log is reloaded by the workflow, and a
        pause or resume it missed while it was gone is sent with the start."""
        sla = _stored(session, SlaInstance, row.workflow_id)
        start = StartSlaInput(
            definition=sla.definition,
            subject=sla.subject,
            candidate_id=sla.candidate_id,
            resumed=resumed,
        )
        return StartSpec(self.workflow_type, start, start_signal=_missed_signal(session, sla))

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """Stopped in the database: the workflow's own `stop` (its log already holds it)."""
        return EndSpec("stop")


def _missed_signal(session: Session, sla: SlaInstance) -> str | None:
    """`pause` or `resume` when the candidate's status disagrees with the log's last row."""
    if sla.candidate_id is None:
        return None
    candidate = session.get(Candidate, sla.candidate_id)
    if candidate is None:
        return None
    log = log_of(session, sla.id)
    paused = bool(log) and log[-1].kind == SlaEventKind.PAUSE
    active = candidate_active(CandidateStatus(candidate.status))
    if active == paused:
        return "resume" if active else "pause"
    return None


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
        return self._rows(session, col(Induction.trn).in_(_ids(self, workflow_ids)))

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


class BatchCases(CaseKind):
    """Bulk releases not completed run OutcomeReleaseBatchWorkflow."""

    workflow_type = OutcomeReleaseBatchWorkflow.__name__
    prefix = "outcome-release-batch-"
    label = "release_batch"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Batches queued, scheduled or running."""
        return self._rows(session, col(ReleaseBatch.status) != "COMPLETED")

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The batches of these workflows."""
        return self._rows(session, col(ReleaseBatch.id).in_(_ids(self, workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.exec(
            select(ReleaseBatch.id, ReleaseBatch.status, ReleaseBatch.updated_at).where(where)
        ).all()
        return [
            CaseRow(
                outcome_start.batch_workflow_id(batch_id),
                self.label,
                batch_id,
                status,
                Standing.CLOSED if status == "COMPLETED" else Standing.OPEN,
                since,
                "release_batch",
                batch_id,
            )
            for batch_id, status, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Mode, instant and requester from the row; the items say what is left."""
        batch = _stored(session, ReleaseBatch, row.business_id)
        start = StartReleaseBatchInput(
            batch_id=batch.id,
            mode=ReleaseMode(batch.mode),
            release_at=batch.release_at,
            actor=batch.requested_by,
            resumed=resumed,
        )
        return StartSpec(
            self.workflow_type,
            start,
            TypedSearchAttributes([SearchAttributePair(keys.CASE_KIND, self.label)]),
            f"Release {batch.total} outcomes {batch.mode} (resumed by reconcile)",
        )


class SyncCases(CaseKind):
    """Check-list syncs still RUNNING run ChecklistSyncWorkflow."""

    workflow_type = ChecklistSyncWorkflow.__name__
    prefix = "checklist-sync-"
    label = "checklist_sync"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Syncs that have not ended."""
        return self._rows(session, col(ChecklistSync.status) == SyncStatus.RUNNING.value)

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The syncs of these workflows."""
        return self._rows(session, col(ChecklistSync.id).in_(_ids(self, workflow_ids)))

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
                Standing.OPEN if status == SyncStatus.RUNNING.value else Standing.CLOSED,
                since,
                "checklist_sync",
                sync_id,
            )
            for sync_id, status, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Scope and actor from the row; opening finds it, and pages go on from its cursor."""
        sync = _stored(session, ChecklistSync, row.business_id)
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


KINDS: tuple[CaseKind, ...] = (
    ApplicationCases(),
    OutcomeCases(),
    BatchCases(),
    SlaCases(),
    InductionCases(),
    SyncCases(),
)
