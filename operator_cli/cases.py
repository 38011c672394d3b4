"""`cli.py cases find` (a visibility query from plain options) and `cli.py case show ID`
(the database row, the workflow, whether they agree, and a summary of its history)."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# A value put inside a visibility query's quotes: ids, codes and statuses only.
_SAFE = re.compile(r"^[A-Za-z0-9_.:@+-]{1,200}$")


class CaseKindName(StrEnum):
    """What `CaseKind` holds, per workflow."""

    APPLICATION = "application"
    RESULT = "result"
    CERTIFICATION = "certification"
    RELEASE_BATCH = "release_batch"
    SLA = "sla"
    INDUCTION = "induction"
    CHECKLIST_SYNC = "checklist_sync"


class Execution(StrEnum):
    """The workflow's own state (`ExecutionStatus`)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    TIMED_OUT = "TimedOut"


@dataclass(frozen=True)
class Filters:
    """`cases find`'s options, each one clause of the query (all must hold)."""

    kind: str | None = None
    status: list[str] = field(default_factory=list)
    execution: str | None = None
    template: str | None = None
    stage: str | None = None
    level: int | None = None
    applicant: str | None = None
    provider: str | None = None
    candidate: str | None = None
    sla_definition: str | None = None
    waiting_on: str | None = None
    sla_status: str | None = None
    release_before: datetime | None = None
    release_after: datetime | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    waiting_since_before: datetime | None = None
    breached: bool | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None


def quoted(value: str, option: str) -> str:
    """`value` in single quotes, refused (ValueError) when it is no id, code or status."""
    if not _SAFE.match(value):
        raise ValueError(f"{option}: {value!r} is not an id, code or status")
    return f"'{value}'"


def _instant(value: datetime, option: str) -> str:
    if value.tzinfo is None:
        raise ValueError(f"{option}: give the instant with its zone (e.g. 2026-12-01T09:00Z)")
    return f"'{value.isoformat()}'"


_KEYWORDS = {
    "kind": ("CaseKind", "--kind"),
    "execution": ("ExecutionStatus", "--execution"),
    "template": ("TemplateCode", "--template"),
    "stage": ("Stage", "--stage"),
    "applicant": ("ApplicantId", "--applicant"),
    "provider": ("ProviderId", "--provider"),
    "candidate": ("CandidateId", "--candidate"),
    "sla_definition": ("SlaDefinition", "--sla-definition"),
    "waiting_on": ("WaitingOn", "--waiting-on"),
    "sla_status": ("SlaStatus", "--sla-status"),
}
_INSTANTS = {
    "release_before": ("ReleaseAt <", "--release-before"),
    "release_after": ("ReleaseAt >=", "--release-after"),
    "due_before": ("DueAt <", "--due-before"),
    "due_after": ("DueAt >=", "--due-after"),
    "waiting_since_before": ("WaitingSince <", "--waiting-since-before"),
    "started_after": ("StartTime >=", "--started-after"),
    "started_before": ("StartTime <", "--started-before"),
}


def query(filters: Filters) -> str:
    """The visibility query (the Temporal UI's and `temporal workflow list -q`'s language)."""
    clauses = [
        f"{name} = {quoted(value, option)}"
        for key, (name, option) in _KEYWORDS.items()
        if (value := getattr(filters, key)) is not None
    ]
    if filters.status:
        statuses = ", ".join(quoted(status, "--status") for status in filters.status)
        clauses.append(f"CaseStatus IN ({statuses})")
    if filters.level is not None:
        clauses.append(f"ReviewLevel = {int(filters.level)}")
    if filters.breached is not None:
        clauses.append(f"Breached = {'true' if filters.breached else 'false'}")
    clauses += [
        f"{where} {_instant(value, option)}"
        for key, (where, option) in _INSTANTS.items()
        if (value := getattr(filters, key)) is not None
    ]
    return " AND ".join(clauses)


@dataclass(frozen=True)
class Found:
    """One row of `cases find`."""

    workflow_id: str
    run_id: str
    workflow_type: str
    execution: str
    case_kind: str | None
    case_status: list[str]
    started_at: datetime | None
    closed_at: datetime | None
    search_attributes: dict[str, Any]


def _attributes(execution: Any) -> dict[str, Any]:
    typed = execution.typed_search_attributes
    return {pair.key.name: pair.value for pair in typed}


def found_of(execution: Any) -> Found:
    """A listed workflow as `cases find` shows it."""
    attributes = _attributes(execution)
    status = execution.status.name if execution.status else "UNKNOWN"
    return Found(
        workflow_id=execution.id,
        run_id=execution.run_id,
        workflow_type=execution.workflow_type,
        execution=status,
        case_kind=attributes.get("CaseKind"),
        case_status=list(attributes.get("CaseStatus") or []),
        started_at=execution.start_time,
        closed_at=execution.close_time,
        search_attributes=attributes,
    )


def row_line(row: Found) -> str:
    """One workflow of `cases find` as a line of text."""
    started = row.started_at.isoformat(timespec="seconds") if row.started_at else "-"
    statuses = ",".join(row.case_status) or "-"
    return (
        f"{row.workflow_id:<56} {row.execution:<10} {row.case_kind or '-':<14} "
        f"{statuses:<26} {started}"
    )


async def find(where: str, *, limit: int) -> list[Found]:
    """Up to `limit` workflows matching `where`, newest first."""
    from core.settings import get_settings
    from core.temporal import connect

    client = await connect(get_settings())
    rows: list[Found] = []
    async for execution in client.list_workflows(where or None, limit=limit):
        rows.append(found_of(execution))
    return rows


@dataclass
class HistorySummary:
    """What a workflow's history says in a few lines."""

    events: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    updates: Counter[str] = field(default_factory=Counter)
    signals: Counter[str] = field(default_factory=Counter)
    activities: Counter[str] = field(default_factory=Counter)
    activities_failed: Counter[str] = field(default_factory=Counter)
    timers_started: int = 0
    timers_fired: int = 0
    timers_canceled: int = 0
    last_events: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as an operator reads it."""

        def counted(counter: Counter[str]) -> str:
            return ", ".join(f"{name} x{n}" for name, n in sorted(counter.items())) or "none"

        failed = sum(self.activities_failed.values())
        return [
            f"events: {self.events} ({_at(self.first_at)} .. {_at(self.last_at)})",
            f"updates: {counted(self.updates)}",
            f"signals: {counted(self.signals)}",
            f"activities: {counted(self.activities)}"
            + (f"; failed attempts: {counted(self.activities_failed)}" if failed else ""),
            f"timers: {self.timers_started} started, {self.timers_fired} fired, "
            f"{self.timers_canceled} cancelled",
            "last events: " + "; ".join(self.last_events),
        ]


def _at(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"
