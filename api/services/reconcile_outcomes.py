"""What reconcile knows of outcomes, their SLAs and bulk releases (see reconcile_cases)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.fields import same_named
from api.services.reconcile_cases import (
    CaseKind,
    CaseRow,
    EndSpec,
    Standing,
    StartSpec,
    TableCases,
    stored,
)
from api.services.sla import ELEMENT_SLA, EPA_SLA
from core import temporal as keys
from domain.outcome import (
    BatchStatus,
    OutcomeKind,
    OutcomeStatus,
)
from domain.outcome import is_active as candidate_active
from domain.sla import SlaEventKind
from models.candidate import Candidate
from models.outcome import Outcome, ReleaseBatch
from models.sla import SlaInstance, log_of
from workflows import outcome_start
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.payloads.outcome import (
    OutcomeReleasedNotice,
    StartOutcomeReleaseInput,
    StartReleaseBatchInput,
)
from workflows.payloads.resumption import Resumption
from workflows.payloads.sla import StartSlaInput
from workflows.sla import SlaWorkflow


class OutcomeCases(CaseKind):
    """Tracked outcomes not released yet run OutcomeReleaseWorkflow."""

    workflow_type = OutcomeReleaseWorkflow.__name__
    ending = "signal released"

    def owns(self, workflow_id: str) -> bool:
        """`result-{id}` or `certification-{id}`."""
        return workflow_id.startswith(tuple(f"{kind}-" for kind in OutcomeKind))

    def business_id(self, workflow_id: str) -> tuple[str, str]:
        """`result-{id}` or `certification-{id}`."""
        label, _, outcome_id = workflow_id.partition("-")
        return label, outcome_id

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Outcomes in QA, amendment or waiting for release (legacy ones never had one)."""
        return self._rows(
            session,
            col(Outcome.tracked).is_(True),
            col(Outcome.status) != OutcomeStatus.RELEASED,
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
                Standing.CLOSED if status == OutcomeStatus.RELEASED else Standing.OPEN,
                since,
                kind,
                outcome_id,
            )
            for outcome_id, kind, status, since in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Kind, candidate, provider and grade from the row."""
        outcome = stored(session, Outcome, row.business_id)
        candidate = stored(session, Candidate, outcome.candidate_id)
        start = StartOutcomeReleaseInput(
            outcome_id=outcome.id,
            provider_id=candidate.provider_id,
            resumed=resumed,
            **same_named(outcome, "kind", "candidate_id", "grade"),
        )
        return self.spec(
            start,
            outcome_start.search_attributes(start, outcome.status),
            outcome_start.summary(start),
        )

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """Released (by a batch whose signal was lost): the workflow finishes its own way."""
        outcome = stored(session, Outcome, row.business_id)
        assert outcome.released_at is not None  # RELEASED rows have both (a check constraint)
        assert outcome.release_method is not None
        notice = OutcomeReleasedNotice(
            revision=outcome.revision,
            released_at=outcome.released_at,
            release_method=outcome.release_method,
        )
        return EndSpec("released", notice)


class SlaCases(CaseKind):
    """SLA instances not stopped run SlaWorkflow (id = the instance's id)."""

    workflow_type = SlaWorkflow.__name__
    ending = "signal stop"
    prefix = "sla-"
    label = "sla"

    def open_rows(self, session: Session) -> list[CaseRow]:
        """Instances running, paused, or breached and still timed."""
        return self._rows(session, col(SlaInstance.stopped_at).is_(None))

    def rows_of(self, session: Session, workflow_ids: Sequence[str]) -> list[CaseRow]:
        """The instances of these workflows."""
        return self._rows(session, col(SlaInstance.id).in_(list(workflow_ids)))

    def _rows(self, session: Session, where: Any) -> list[CaseRow]:
        found = session.execute(  # five columns: past sqlmodel's typed `select`
            select_columns(
                col(SlaInstance.id),
                col(SlaInstance.subject),
                col(SlaInstance.status),
                col(SlaInstance.started_at),
                col(SlaInstance.stopped_at),
            ).where(where)
        ).all()
        return [
            CaseRow(
                instance_id,
                self.label,
                instance_id.removeprefix(self.prefix),
                status,
                Standing.OPEN if stopped_at is None else Standing.CLOSED,
                started_at,
                "sla",
                subject,
            )
            for instance_id, subject, status, started_at, stopped_at in found
        ]

    def start_spec(self, session: Session, row: CaseRow, resumed: Resumption) -> StartSpec:
        """Definition and subject from the row; the log is reloaded by the workflow, and a
        stop, pause or resume it missed while it was gone is sent with the start."""
        sla = stored(session, SlaInstance, row.workflow_id)
        fields = same_named(sla, "definition", "subject", "candidate_id")
        start = StartSlaInput(resumed=resumed, **fields)
        return StartSpec(self.workflow_type, start, start_signal=_missed_signal(session, sla))

    def end_spec(self, session: Session, row: CaseRow) -> EndSpec:
        """Stopped in the database: the workflow's own `stop` (its log already holds it)."""
        return EndSpec("stop")


def _missed_signal(session: Session, sla: SlaInstance) -> str | None:
    """The signal the SLA missed while it was gone: `stop` once the release that ends it
    happened, else `pause` or `resume` when the candidate's status disagrees with the log."""
    if _stop_happened(session, sla):
        return "stop"
    if sla.candidate_id is None:
        return None
    candidate = session.get(Candidate, sla.candidate_id)
    if candidate is None:
        return None
    log = log_of(session, sla.id)
    paused = bool(log) and log[-1].kind == SlaEventKind.PAUSE
    active = candidate_active(candidate.status)
    if active == paused:
        return "resume" if active else "pause"
    return None


def _stop_happened(session: Session, sla: SlaInstance) -> bool:
    """Whether the release that stops this SLA is recorded (the releases an outcome's
    workflow stops SLAs for: its own, its element's, and a certification's EPA time)."""
    released = col(Outcome.status) == OutcomeStatus.RELEASED
    if sla.definition in {f"{kind}_complete_to_release" for kind in OutcomeKind}:
        where = [col(Outcome.id) == sla.subject]
    elif sla.definition == ELEMENT_SLA:
        where = [col(Outcome.element_id) == sla.subject]
    elif sla.definition == EPA_SLA:
        kind = col(Outcome.kind) == OutcomeKind.CERTIFICATION
        where = [col(Outcome.candidate_id) == sla.subject, kind]
    else:
        return False
    return session.exec(select(Outcome.id).where(released, *where).limit(1)).first() is not None


class BatchCases(TableCases):
    """Bulk releases not completed run OutcomeReleaseBatchWorkflow."""

    workflow_type = OutcomeReleaseBatchWorkflow.__name__
    prefix = "outcome-release-batch-"
    label = "release_batch"

    model = ReleaseBatch
    open_states = frozenset(BatchStatus) - {BatchStatus.COMPLETED}  # queued, scheduled, running

    def start_from(self, found: Any, resumed: Resumption) -> StartSpec:
        """Mode, instant and requester from the row; the items say what is left."""
        start = StartReleaseBatchInput(
            batch_id=found.id,
            actor=found.requested_by,
            resumed=resumed,
            **same_named(found, "mode", "release_at"),
        )
        return self.spec(
            start,
            TypedSearchAttributes([SearchAttributePair(keys.CASE_KIND, self.label)]),
            f"Release {found.total} outcomes {found.mode} (resumed by reconcile)",
        )
