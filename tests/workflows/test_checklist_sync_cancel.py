"""A cancel of ChecklistSyncWorkflow lets the page under way commit, then stops CANCELLED."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from api.services import checklist_sync as syncs
from domain.application import AssessmentStatus
from domain.checklist_sync import SyncStatus
from models.assessment import Assessment
from models.checklist_sync import ChecklistSync
from tests.activities.test_checklist_sync_activities import V1, V2, publish, seed_assessment
from tests.support.operator import OPERATOR, audit_rows, events_of, operator_client, status_of
from worker import build_worker
from workflows.payloads.checklist_sync import StartChecklistSyncInput


async def _until(condition: Callable[[], object]) -> None:
    """Wait (bounded) until `condition` holds: a state change, never a duration."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def _waits_on_a_row_lock(db: Engine) -> bool:
    with db.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


async def _cancel_seen(handle: WorkflowHandle[Any, Any]) -> bool:
    """True once a workflow task after the cancel request has completed (it was handled)."""
    events = [e.event_type for e in (await handle.fetch_history()).events]
    requested = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
    if requested not in events:
        return False
    return EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in events[events.index(requested) :]


def _row(db: Engine, sync_id: str) -> ChecklistSync:
    with Session(db) as session:
        row = session.get(ChecklistSync, sync_id)
        assert row is not None
        return row


async def test_a_cancel_lets_the_page_under_way_commit_then_stops_as_cancelled(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    apps = sorted(seed_assessment(db, AssessmentStatus.NOT_STARTED) for _ in range(3))
    sync_id = uuid.uuid4().hex
    client: Client = ts_env.client

    async with build_worker(client, db, task_queue=task_queue, threads=4):
        with Session(db) as blocker, blocker.begin():  # the second page waits for this row
            blocker.exec(
                select(Assessment).where(Assessment.id == f"asm-{apps[1]}").with_for_update()
            ).one()
            start = StartChecklistSyncInput(sync_id=sync_id, page_size=1)
            handle = await syncs.start(client, start, task_queue=task_queue)
            await _until(lambda: _waits_on_a_row_lock(db))
            await (await operator_client(client)).get_workflow_handle(handle.id).cancel()
            for _ in range(400):
                if await _cancel_seen(handle):
                    break
                await asyncio.sleep(0.05)
            assert _row(db, sync_id).pages == 1
        with pytest.raises(WorkflowFailureError) as ended:
            await handle.result()
        assert isinstance(ended.value.cause, CancelledError)
        assert await status_of(handle) == Status.CANCELED

        row = _row(db, sync_id)
        assert (row.status, row.pages, row.synced) == (SyncStatus.CANCELLED.value, 2, 2)
        [audit] = audit_rows(db, sync_id, "cancelled")
        assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
        [event] = events_of(db, "checklist_sync.cancelled")
        assert (event.data["pages"], event.data["synced"]) == (2, 2)

        again = StartChecklistSyncInput(sync_id=uuid.uuid4().hex, page_size=5)
        later = await (await syncs.start(client, again, task_queue=task_queue)).result()

    assert (later.status, later.synced, later.unchanged) == (SyncStatus.COMPLETED, 1, 2)
