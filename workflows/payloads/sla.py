"""Payloads of SlaWorkflow and its activities."""

from datetime import date, datetime

from pydantic import Field

from domain.calendar import BusinessCalendar, parse_week
from domain.sla import SlaEventKind, SlaStatus
from workflows.payloads.common import Payload, signature
from workflows.payloads.resumption import Resumption


class StartSlaInput(Payload):
    """Time `subject` against the current version of `definition`."""

    definition: str
    subject: str
    candidate_id: str | None = None
    start_paused: bool = False
    resumed: Resumption | None = None  # restarted by reconcile (the log is reloaded anyway)


class SlaLogRow(Payload):
    """One row of the append-only log."""

    kind: SlaEventKind
    at: datetime


class SlaCalendarSpec(Payload):
    """The calendar version an instance counts working time by (pinned at its start)."""

    code: str
    version: int
    timezone: str
    working_hours: dict[str, list[list[str]]]
    holidays: list[date] = Field(default_factory=list)

    def rules(self) -> BusinessCalendar:
        """The calendar as the working-time arithmetic takes it."""
        return BusinessCalendar(
            self.timezone, parse_week(self.working_hours), frozenset(self.holidays)
        )


class SlaState(Payload):
    """The instance as the workflow and the database both hold it."""

    instance_id: str
    definition: str
    version: int
    subject: str
    goal_s: int
    warning_fractions: list[float]
    log: list[SlaLogRow] = Field(default_factory=list)
    warned: list[float] = Field(default_factory=list)
    breached_at: datetime | None = None
    status: SlaStatus = SlaStatus.RUNNING
    # Absent in instances opened before calendars (and those without one): wall time.
    working_calendar: SlaCalendarSpec | None = None


class OpenSlaInput(Payload):
    """Activity input: create the instance (or find it) and its START row."""

    instance_id: str
    definition: str
    subject: str
    candidate_id: str | None
    at: datetime


class AppendSlaEventInput(Payload):
    """Activity input: append row number `seq` to the log."""

    instance_id: str
    seq: int
    kind: SlaEventKind
    at: datetime


class CatchUpSlaInput(Payload):
    """Activity input: append row `seq` if the candidate's status calls for a pause or resume."""

    instance_id: str
    seq: int
    at: datetime


class CatchUpSlaResult(Payload):
    """The row the catch-up appended (None: the log already agreed with the candidate)."""

    kind: SlaEventKind | None


class RecordSlaDueInput(Payload):
    """Activity input: a warning (fraction < 1) or the breach fell due at `at`."""

    instance_id: str
    fraction: float
    at: datetime


class CancelSlaInput(Payload):
    """Activity input: an operator's cancel stops the instance as CANCELLED at `at`."""

    instance_id: str
    definition: str
    subject: str
    candidate_id: str | None
    actor: str
    note: str | None
    at: datetime


class StopSlasInput(Payload):
    """Activity input: send `stop` to these SLA workflows (those never started are skipped)."""

    workflow_ids: list[str]


def sla_workflow_id(definition: str, subject: str) -> str:
    """The business key of an SLA instance."""
    return f"sla-{definition}-{subject}"


# Activity signatures (see `signature`): saved histories hold these names.
start_sla = signature("start_sla", StartSlaInput, type(None), param="start")
stop_slas = signature("stop_slas", StopSlasInput, type(None))
open_sla = signature("open_sla", OpenSlaInput, SlaState)
append_sla_event = signature("append_sla_event", AppendSlaEventInput, type(None))
catch_up_sla_with_candidate = signature(
    "catch_up_sla_with_candidate", CatchUpSlaInput, CatchUpSlaResult
)
record_sla_due = signature("record_sla_due", RecordSlaDueInput, type(None))
cancel_sla = signature("cancel_sla", CancelSlaInput, SlaState)
