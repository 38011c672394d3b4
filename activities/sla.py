"""SLA activities: open an instance, append to its log, record warnings and the breach,
stop it for an operator's cancel."""

import contextlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.base import EngineActivities, transaction_activity
from activities.rows import inserted, lock_row, row_from
from domain.calendar import BusinessCalendar
from domain.cancellation import CANCELLED_BY_OPERATOR
from domain.errors import NotFound
from domain.outcome import is_active
from domain.sla import SlaEventKind, SlaStatus, catch_up, elapsed, status
from models.candidate import Candidate
from models.event import Change, publish
from models.sla import (
    SlaCalendar,
    SlaDefinition,
    SlaInstance,
    SlaLogEntry,
    latest_calendar,
    log_of,
)
from models.views import same_named, view_of
from workflows import sla_start
from workflows.payloads.sla import (
    AppendSlaEventInput,
    CancelSlaInput,
    CatchUpSlaInput,
    CatchUpSlaResult,
    OpenSlaInput,
    RecordSlaDueInput,
    SlaCalendarSpec,
    SlaLogRow,
    SlaState,
    StartSlaInput,
    StopSlasInput,
    sla_workflow_id,
)


class SlaActivities(EngineActivities):
    """I/O for SlaWorkflow, and starting or stopping SLAs on behalf of other workflows."""

    def __init__(self, engine: Engine, client: Client | None = None) -> None:
        super().__init__(engine)
        self.client = client

    @activity.defn
    async def start_sla(self, start: StartSlaInput) -> None:
        """Start timing a subject once (a subject already timed is left as it is)."""
        assert self.client is not None
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self.client.start_workflow(
                "SlaWorkflow",
                start,
                id=sla_workflow_id(start.definition, start.subject),
                task_queue=activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sla_start.search_attributes(start),
                static_summary=sla_start.summary(start),
            )

    @activity.defn
    async def stop_slas(self, command: StopSlasInput) -> None:
        """Signal `stop` to each SLA; one that never started (or already ended) is skipped.
        Temporal unreachable fails the activity, so its retry delivers the stops (a repeated
        `stop` is a no-op)."""
        assert self.client is not None
        for workflow_id in command.workflow_ids:
            try:
                await self.client.get_workflow_handle(workflow_id).signal("stop")
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise

    @transaction_activity
    def open_sla(self, session: Session, command: OpenSlaInput) -> SlaState:
        """Create the instance on the definition's current version with its START row
        (or return it as it stands: a retry, or a run continued as new)."""
        instance = session.get(SlaInstance, command.instance_id, with_for_update=True)
        if instance is None:
            instance = _create(session, command)
        return state_of(session, instance)

    @transaction_activity
    def append_sla_event(self, session: Session, command: AppendSlaEventInput) -> None:
        """Append row `seq` (once) and keep the instance's status in step."""
        instance = _lock(session, command.instance_id)
        if instance.stopped_at is not None:
            return  # stopped (or cancelled) already: the log is closed
        _append(session, instance, command.seq, command.kind, command.at)

    @transaction_activity
    def catch_up_sla_with_candidate(
        self, session: Session, command: CatchUpSlaInput
    ) -> CatchUpSlaResult:
        """Pause or resume as the candidate's stored status calls for (row `seq`, once)."""
        instance = _lock(session, command.instance_id)
        log = log_of(session, instance.id)
        if len(log) > command.seq:  # a retry: the first attempt appended it
            return CatchUpSlaResult(kind=log[command.seq].kind)
        if instance.stopped_at is not None:
            return CatchUpSlaResult(kind=None)  # stopped (or cancelled): nothing to follow
        active = not _candidate_inactive(session, instance.candidate_id)
        kind = catch_up(log, candidate_active=active)
        if kind is not None:
            _append(session, instance, command.seq, kind, command.at)
        return CatchUpSlaResult(kind=kind)

    @transaction_activity
    def record_sla_due(self, session: Session, command: RecordSlaDueInput) -> None:
        """A warning or the breach, recorded once, with its event."""
        instance = _lock(session, command.instance_id)
        breach = command.fraction >= 1.0
        if instance.stopped_at is not None:
            return  # a stopped clock warns and breaches no more
        if breach and instance.breached_at is None:
            instance.breached_at = command.at
            instance.status = SlaStatus.BREACHED
        elif not breach and command.fraction not in instance.warned:
            instance.warned = sorted([*instance.warned, command.fraction])
        else:
            return  # a retry: already recorded
        session.add(instance)
        log = log_of(session, instance.id)
        data = {
            "definition": instance.definition,
            "version": instance.version,
            "subject": instance.subject,
            "fraction": command.fraction,
            "elapsed_s": elapsed(log, command.at, _rules(session, instance)).total_seconds(),
            "goal_s": instance.goal_s,
            **_calendar_data(instance),
        }
        kind = "breached" if breach else "warning"
        key = f"sla:{instance.id}:{kind}:{command.fraction}"
        publish(
            session,
            type=f"sla.{kind}",
            subject=instance.subject,
            at=command.at,
            key=key,
            data=data,
        )
        _audit(session, instance, kind, command.at, f"{kind}:{command.fraction}", data)

    @transaction_activity
    def cancel_sla(self, session: Session, command: CancelSlaInput) -> SlaState:
        """An operator's cancel: a STOP row ends the clock, the status is CANCELLED (audit row
        and `sla.cancelled` event); an instance stopped already is left as it is."""
        instance = session.get(SlaInstance, command.instance_id, with_for_update=True)
        if instance is None:  # cancelled before it opened: open it, then stop it
            instance = _create(session, view_of(OpenSlaInput, command))
        if instance.stopped_at is None:
            log = log_of(session, instance.id)
            session.add(
                SlaLogEntry(
                    instance_id=instance.id,
                    seq=len(log),
                    kind=SlaEventKind.STOP,
                    at=command.at,
                )
            )
            instance.stopped_at = command.at
            instance.status = SlaStatus.CANCELLED
            session.add(instance)
            data = {
                "definition": instance.definition,
                "version": instance.version,
                "subject": instance.subject,
                "reason": CANCELLED_BY_OPERATOR,
                "elapsed_s": elapsed(log, command.at, _rules(session, instance)).total_seconds(),
                "goal_s": instance.goal_s,
                **_calendar_data(instance),
            }
            key = f"sla:{instance.id}:cancelled"
            publish(
                session,
                type="sla.cancelled",
                subject=instance.subject,
                at=command.at,
                key=key,
                data=data,
            )
            detail = {**data, "note": command.note}
            _audit(session, instance, "cancelled", command.at, "cancelled", detail, command.actor)
        return state_of(session, instance)


def _create(session: Session, command: OpenSlaInput) -> SlaInstance:
    definition = session.exec(
        select(SlaDefinition)
        .where(SlaDefinition.code == command.definition)
        .order_by(col(SlaDefinition.version).desc())
        .limit(1)
    ).first()
    if definition is None:
        raise NotFound(f"SLA definition {command.definition} does not exist")
    # The calendar's version now is the one this instance counts by, whatever comes later.
    calendar = latest_calendar(session, definition.calendar) if definition.calendar else None
    instance = inserted(
        session,
        row_from(  # the definition's code, the subject, the candidate
            SlaInstance,
            command,
            id=command.instance_id,
            started_at=command.at,
            warned=[],
            calendar=calendar.code if calendar else None,
            calendar_version=calendar.version if calendar else None,
            **same_named(definition, "version", "goal_s"),
        ),
    )
    session.add(SlaLogEntry(instance_id=instance.id, seq=0, kind=SlaEventKind.START, at=command.at))
    if _candidate_inactive(session, command.candidate_id):  # it starts already paused
        session.add(
            SlaLogEntry(instance_id=instance.id, seq=1, kind=SlaEventKind.PAUSE, at=command.at)
        )
        instance.status = SlaStatus.PAUSED
    detail = {"version": definition.version, **_calendar_data(instance)}
    _audit(session, instance, "start", command.at, "log:0", detail)
    return instance


def _append(
    session: Session, instance: SlaInstance, seq: int, kind: SlaEventKind, at: datetime
) -> None:
    """Row `seq` of the log (once), the instance's status in step, and its audit row."""
    session.execute(
        insert(SlaLogEntry)
        .values(instance_id=instance.id, seq=seq, kind=kind, at=at)
        .on_conflict_do_nothing(index_elements=["instance_id", "seq"])
    )
    if kind == SlaEventKind.STOP:
        instance.stopped_at = instance.stopped_at or at
    log = log_of(session, instance.id)
    instance.status = status(log, breached=instance.breached_at is not None)
    session.add(instance)
    _audit(session, instance, kind.lower(), at, f"log:{seq}", {"seq": seq})


def _candidate_inactive(session: Session, candidate_id: str | None) -> bool:
    """Read under a share lock: a status change waits for this transaction, or it waits for
    the change, so an SLA opened or caught up meanwhile never misses it."""
    if candidate_id is None:
        return False
    candidate = session.get(Candidate, candidate_id, with_for_update={"read": True})
    return candidate is not None and not is_active(candidate.status)


def state_of(session: Session, instance: SlaInstance) -> SlaState:
    """The instance with its log, as the workflow mirrors it."""
    session.flush()
    fractions = session.exec(
        select(SlaDefinition.warning_fractions).where(
            SlaDefinition.code == instance.definition, SlaDefinition.version == instance.version
        )
    ).one()
    return view_of(
        SlaState,
        instance,
        instance_id=instance.id,
        warning_fractions=list(fractions),
        log=[SlaLogRow(kind=e.kind, at=e.at) for e in log_of(session, instance.id)],
        working_calendar=_spec(_calendar_row(session, instance)),
    )


def _calendar_row(session: Session, instance: SlaInstance) -> SlaCalendar | None:
    """The calendar version the instance started on (None: it counts wall time)."""
    if instance.calendar is None or instance.calendar_version is None:
        return None
    return session.get(SlaCalendar, (instance.calendar, instance.calendar_version))


def _rules(session: Session, instance: SlaInstance) -> BusinessCalendar | None:
    row = _calendar_row(session, instance)
    return None if row is None else row.rules()


def _spec(row: SlaCalendar | None) -> SlaCalendarSpec | None:
    if row is None:
        return None
    return view_of(SlaCalendarSpec, row, holidays=[date.fromisoformat(d) for d in row.holidays])


def _calendar_data(instance: SlaInstance) -> dict[str, Any]:
    """The calendar an event's times count by (nothing for wall time)."""
    if instance.calendar is None:
        return {}
    return {"calendar": instance.calendar, "calendar_version": instance.calendar_version}


def _lock(session: Session, instance_id: str) -> SlaInstance:
    return lock_row(session, SlaInstance, instance_id, f"SLA {instance_id} does not exist")


def _audit(
    session: Session,
    instance: SlaInstance,
    action: str,
    at: datetime,
    key: str,
    detail: dict[str, Any],
    actor: str = "system",
) -> None:
    change = Change("sla", instance.subject, f"sla_{action}", actor, at, f"sla:{instance.id}:{key}")
    change.audit(session, {"definition": instance.definition, **detail})
