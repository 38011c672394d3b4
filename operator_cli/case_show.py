"""`cli.py case show ID`: one case as PostgreSQL holds it and as its workflow runs."""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError

from api.services import reconcile
from api.services.reconcile_cases import CaseKind, CaseRow
from api.services.reconcile_io import describe
from core.temporal import SEARCH_ATTRIBUTES
from operator_cli.cases import HistorySummary

LAST_EVENTS = 5
QUERY_TIMEOUT_S = 3
OURS = {key.name for key in SEARCH_ATTRIBUTES}  # not Temporal's own (BuildIds, ...)
# Bookkeeping every step has: left out of "last events".
ROUTINE = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}


@dataclass(frozen=True)
class Shown:
    """Everything `case show` prints."""

    workflow_id: str
    database: dict[str, Any] | None
    workflow: dict[str, Any] | None
    agreement: str
    history: HistorySummary | None


def resolve(engine: Engine, given: str) -> tuple[CaseKind, str, CaseRow | None]:
    """(kind, workflow id, row) of a workflow id, or of a bare business id with one row."""
    owners = [kind for kind in reconcile.KINDS if kind.owns(given)]
    with Session(engine) as session:
        if owners:
            rows = owners[0].rows_of(session, [given])
            return owners[0], given, rows[0] if rows else None
        matches = [
            (kind, row)
            for kind in reconcile.KINDS
            for prefix in _prefixes(kind)
            for row in kind.rows_of(session, [f"{prefix}{given}"])
        ]
    if len(matches) != 1:
        what = "no case" if not matches else f"{len(matches)} cases"
        raise ValueError(
            f"{what} with id {given!r}; give the workflow id (e.g. application-{given})"
        )
    kind, row = matches[0]
    return kind, row.workflow_id, row


def _prefixes(kind: CaseKind) -> list[str]:
    if kind.prefix:
        return [kind.prefix]
    return ["result-", "certification-"]  # outcomes: one kind, two prefixes


def database_view(row: CaseRow | None) -> dict[str, Any] | None:
    """The row's state, in the words reconcile uses."""
    if row is None:
        return None
    return {
        "kind": row.label,
        "id": row.business_id,
        "state": row.state,
        "standing": row.standing.value,
        "changed_at": row.since.isoformat(timespec="seconds"),
    }


async def workflow_view(client: Client, workflow_id: str) -> dict[str, Any] | None:
    """The latest run: status, times, search attributes, summary and details."""
    described = await describe(client, workflow_id)
    if described is None:
        return None
    full = await client.get_workflow_handle(workflow_id, run_id=described.run_id).describe()
    raw = full.raw_description
    return {
        "run_id": full.run_id,
        "type": full.workflow_type,
        "status": full.status.name if full.status else "UNKNOWN",
        "task_queue": full.task_queue,
        "started_at": _at(full.start_time),
        "closed_at": _at(full.close_time),
        "summary": await full.static_summary(),
        "details": await full.static_details(),
        "current_details": await _current_details(client, workflow_id, full),
        "search_attributes": {
            pair.key.name: _plain(pair.value)
            for pair in full.typed_search_attributes
            if pair.key.name in OURS
        },
        "pending_activities": [a.activity_type.name for a in raw.pending_activities],
        "history_length": full.history_length,
    }


async def _current_details(
    client: Client, workflow_id: str, described: WorkflowExecutionDescription
) -> str | None:
    """What the workflow says it is doing now (the UI's "current details"): a query, so
    only while it runs and a worker answers; None otherwise."""
    if described.status != WorkflowExecutionStatus.RUNNING:
        return None
    handle = client.get_workflow_handle(workflow_id, run_id=described.run_id)
    try:
        metadata = await handle.query(
            "__temporal_workflow_metadata",
            result_type=WorkflowMetadata,
            rpc_timeout=timedelta(seconds=QUERY_TIMEOUT_S),
        )
    except (RPCError, WorkflowQueryFailedError):
        return None
    return metadata.current_details or None


def _at(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _event_name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def _count_local_activity(found: HistorySummary, event: HistoryEvent) -> None:
    """A local activity leaves one marker (its result or its failure), no scheduled event."""
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != LOCAL_ACTIVITY_MARKER or not attrs.details["data"].payloads:
        return
    try:
        name = str(json.loads(attrs.details["data"].payloads[0].data)["activity_type"])
    except (ValueError, KeyError, TypeError):
        name = "?"
    found.activities[name] += 1
    if attrs.HasField("failure"):
        found.activities_failed[name] += 1


def summarise(events: list[HistoryEvent]) -> HistorySummary:
    """Counts of updates, signals, activities (local ones too) and timers; the last few events."""
    found = HistorySummary(events=len(events))
    scheduled: dict[int, str] = {}
    for event in events:
        at = event.event_time.ToDatetime(tzinfo=UTC)
        found.first_at = found.first_at or at
        found.last_at = at
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            attrs = event.workflow_execution_update_accepted_event_attributes
            found.updates[attrs.accepted_request.input.name] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            found.signals[event.workflow_execution_signaled_event_attributes.signal_name] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
            found.activities[name] += 1
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            _count_local_activity(found, event)
        elif kind in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        ):
            attrs_of = (
                event.activity_task_failed_event_attributes
                if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
                else event.activity_task_timed_out_event_attributes
            )
            found.activities_failed[scheduled.get(attrs_of.scheduled_event_id, "?")] += 1
        found.timers_started += kind == EventType.EVENT_TYPE_TIMER_STARTED
        found.timers_fired += kind == EventType.EVENT_TYPE_TIMER_FIRED
        found.timers_canceled += kind == EventType.EVENT_TYPE_TIMER_CANCELED
    found.last_events = [
        f"{_event_name(e)} {e.event_time.ToDatetime(tzinfo=UTC).isoformat(timespec='seconds')}"
        for e in [e for e in events if e.event_type not in ROUTINE][-LAST_EVENTS:]
    ]
    return found


async def show(engine: Engine, client: Client, given: str) -> Shown:
    """The case `given` names (a workflow id, or a bare id that names one case)."""
    _, workflow_id, row = await asyncio.to_thread(resolve, engine, given)
    workflow = await workflow_view(client, workflow_id)
    if row is None and workflow is None:
        raise ValueError(f"no case {given!r}: no row in PostgreSQL and no workflow in Temporal")
    finding = await reconcile.check(engine, client, workflow_id)
    agreement = finding.line() if finding else "PostgreSQL and Temporal agree"
    history = None
    if workflow is not None:
        handle = client.get_workflow_handle(workflow_id, run_id=workflow["run_id"])
        history = summarise([event async for event in handle.fetch_history_events()])
    return Shown(workflow_id, database_view(row), workflow, agreement, history)


async def show_at(database_url: str, given: str) -> Shown:
    """`show` with an engine and a client of its own."""
    from core.db import make_engine
    from core.settings import get_settings
    from core.temporal import connect

    engine = make_engine(database_url, pool_size=2)
    try:
        client = await connect(get_settings())
        return await show(engine, client, given)
    finally:
        engine.dispose()


def lines(shown: Shown) -> list[str]:
    """`case show` as text."""
    out = [f"case {shown.workflow_id}"]
    if shown.database is None:
        out.append("database: no row")
    else:
        db = shown.database
        out.append(
            f"database: {db['kind']} {db['id']} {db['state']} ({db['standing']}, "
            f"changed {db['changed_at']})"
        )
    wf = shown.workflow
    if wf is None:
        out.append("workflow: none (no history in Temporal)")
    else:
        out.append(f"workflow: {wf['type']} {wf['status']} run {wf['run_id']}")
        out.append(f"  started {wf['started_at']}, closed {wf['closed_at'] or '-'}")
        if wf["summary"]:
            out.append(f"  summary: {wf['summary']}")
        if wf["current_details"]:
            now = " / ".join(line for line in wf["current_details"].splitlines() if line)
            out.append(f"  now: {now}")
        attributes = ", ".join(f"{k}={v}" for k, v in sorted(wf["search_attributes"].items()))
        out.append(f"  search attributes: {attributes or 'none'}")
        if wf["pending_activities"]:
            out.append(f"  pending activities: {', '.join(wf['pending_activities'])}")
    out.append(f"agreement: {' '.join(shown.agreement.split())}")
    if shown.history is not None:
        out += [f"history {line}" for line in shown.history.lines()]
    return out
