"""Check-list syncs: start one, schedule them, read one's progress and changes.

The API, the CLI, tests and the bench all start syncs through here, so a sync is
started the same way whichever door it came through.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from core import temporal as keys
from domain.checklist_sync import SyncStatus
from domain.errors import Invalid, NotFound, field_error
from models import checklist_sync as syncs
from models.checklist_sync import (
    ChecklistSyncChangePublic,
    ChecklistSyncFailurePublic,
    ChecklistSyncPublic,
)
from models.template import Template
from models.views import view_of
from workflows.checklist_sync import CASE_KIND, WORKFLOW_ID_PREFIX, ChecklistSyncWorkflow
from workflows.payloads.checklist_sync import ChecklistSyncProgress, StartChecklistSyncInput

DEFAULT_SCHEDULE_ID = "checklist-sync-schedule"
SCHEDULED_SYNC_ID = "scheduled"  # Temporal appends the fire time: checklist-sync-scheduled-<t>
_CLOSED_UNCLEANLY = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TIMED_OUT,
}


def workflow_id(sync_id: str) -> str:
    """The business key of a sync's workflow."""
    return f"{WORKFLOW_ID_PREFIX}{sync_id}"


def check_template(session: Session, template_code: str | None) -> None:
    """Refuse (422) a scope naming a template that was never published."""
    if template_code is None:
        return
    if session.exec(select(Template.code).where(Template.code == template_code)).first() is None:
        raise Invalid(
            f"no published template {template_code!r}",
            errors=[field_error("template_code", "no published template with this code")],
        )


async def start(
    client: Client, start_input: StartChecklistSyncInput, *, task_queue: str
) -> WorkflowHandle[ChecklistSyncWorkflow, ChecklistSyncProgress]:
    """Start the sync `start_input.sync_id` (an id is never reused)."""
    assert start_input.sync_id is not None
    return await client.start_workflow(
        ChecklistSyncWorkflow.run,
        start_input,
        id=workflow_id(start_input.sync_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=search_attributes(start_input),
        static_summary=summary(start_input),
    )


async def schedule(
    client: Client,
    *,
    cron: str,
    task_queue: str,
    template_code: str | None = None,
    dry_run: bool = False,
    schedule_id: str = DEFAULT_SCHEDULE_ID,
) -> ScheduleHandle:
    """Create the Temporal Schedule `schedule_id`, or replace its cron and scope."""
    start_input = StartChecklistSyncInput(
        template_code=template_code, dry_run=dry_run, actor=f"schedule:{schedule_id}"
    )
    action = ScheduleActionStartWorkflow(
        ChecklistSyncWorkflow.run,
        start_input,
        id=workflow_id(SCHEDULED_SYNC_ID if schedule_id == DEFAULT_SCHEDULE_ID else schedule_id),
        task_queue=task_queue,
        typed_search_attributes=search_attributes(start_input),
        static_summary=summary(start_input),
    )
    wanted = Schedule(action=action, spec=ScheduleSpec(cron_expressions=[cron]))
    try:
        return await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        await handle.update(replace)
        return handle


def get(session: Session, sync_id: str, *, limit: int, offset: int) -> ChecklistSyncPublic | None:
    """The sync's row with one slice of its changes, or None before it has opened."""
    sync = syncs.get(session, sync_id)
    if sync is None:
        return None
    changes_total, changes, failures = syncs.changes_of(
        session, sync_id, limit=limit, offset=offset
    )
    return view_of(
        ChecklistSyncPublic,
        sync,
        changes_total=changes_total,
        changes=[
            ChecklistSyncChangePublic.model_validate(c, from_attributes=True) for c in changes
        ],
        failures=[
            ChecklistSyncFailurePublic.model_validate(f, from_attributes=True) for f in failures
        ],
    )


async def reconcile(client: Client, found: ChecklistSyncPublic) -> ChecklistSyncPublic:
    """A row still RUNNING whose workflow was terminated (or the like) is reported FAILED."""
    if found.status != SyncStatus.RUNNING:
        return found
    try:
        described = await client.get_workflow_handle(workflow_id(found.id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return found
        raise
    if described.status in _CLOSED_UNCLEANLY:
        reason = f"the workflow {described.status.name.lower()}"
        return found.model_copy(update={"status": SyncStatus.FAILED, "error": reason})
    return found


async def not_opened_yet(client: Client, sync_id: str) -> ChecklistSyncPublic:
    """A sync whose workflow exists but has not written its row yet (404 when none)."""
    handle = client.get_workflow_handle(workflow_id(sync_id))
    try:
        progress = await handle.query(
            ChecklistSyncWorkflow.progress, rpc_timeout=timedelta(seconds=5)
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"check-list sync {sync_id} does not exist") from None
        raise
    return ChecklistSyncPublic(
        id=sync_id,
        **progress.model_dump(
            include={"status", "dry_run", "template_code", "total", "found", "synced"}
            | {"unchanged", "skipped", "failed", "error"}
        ),
        started_at=None,
        finished_at=None,
        changes_total=0,
        changes=[],
        failures=[],
    )


def search_attributes(start_input: StartChecklistSyncInput) -> TypedSearchAttributes:
    """What an operator finds the sync by in the Temporal UI."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(keys.CASE_KIND, CASE_KIND),
        SearchAttributePair(
            keys.CASE_STATUS,
            [SyncStatus.RUNNING, *(["DRY_RUN"] if start_input.dry_run else [])],
        ),
    ]
    if start_input.template_code is not None:
        pairs.append(SearchAttributePair(keys.TEMPLATE_CODE, start_input.template_code))
    return TypedSearchAttributes(pairs)


def summary(start_input: StartChecklistSyncInput) -> str:
    """The sync's static summary in the Temporal UI."""
    scope = f"template {start_input.template_code}" if start_input.template_code else "all"
    mode = "dry run" if start_input.dry_run else "write"
    return f"Check-list sync · {scope} · {mode} · by {start_input.actor}"


async def follow(
    handle: WorkflowHandle[ChecklistSyncWorkflow, ChecklistSyncProgress],
    on_progress: Callable[[ChecklistSyncProgress], None],
    *,
    every_s: float = 0.5,
) -> ChecklistSyncProgress:
    """Wait for the sync's result, reporting its `progress` query every `every_s` seconds."""
    result = asyncio.ensure_future(handle.result())
    try:
        while not result.done():
            # Not picked up by a worker yet: try again on the next tick.
            with contextlib.suppress(RPCError, WorkflowQueryFailedError):
                on_progress(await handle.query(ChecklistSyncWorkflow.progress))
            await asyncio.wait({result}, timeout=every_s)
        return await result
    finally:
        result.cancel()
