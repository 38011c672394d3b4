"""Check-list syncs: admins start them; admins and assessors follow them."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import commands
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.roles import SyncReader, SyncStarter
from api.services import checklist_sync as service
from domain.values import Offset
from models.checklist_sync import ChecklistSyncCreate, ChecklistSyncPublic, ChecklistSyncStarted
from workflows.payloads.checklist_sync import StartChecklistSyncInput

router = APIRouter(prefix="/v1/checklist-syncs", tags=["checklist-syncs"])
# Longer than an `Id`: a scheduled run's id carries the schedule's id and its fire time.
SyncId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:+-]{1,100}$")]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def start_sync(
    body: ChecklistSyncCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: SyncStarter,
) -> ChecklistSyncStarted:
    """Start a sync (optionally one template, optionally a dry run); follow it by its id."""
    service.check_template(session, body.template_code)
    sync_id = commands.new_id()
    start = StartChecklistSyncInput(
        sync_id=sync_id, template_code=body.template_code, dry_run=body.dry_run, actor=caller.sub
    )
    # A retried key names the sync its first attempt started: that one is the answer.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await service.start(temporal, start, task_queue=settings.task_queue)
    return ChecklistSyncStarted(id=sync_id)


@router.get("/{sync_id}")
async def get_sync(
    sync_id: SyncId,
    session: SessionDep,
    temporal: TemporalDep,
    caller: SyncReader,
    limit: Annotated[int, Query(ge=1, le=5000, description="changes per page")] = 1000,
    offset: Annotated[Offset, Query(description="changes to skip")] = 0,
) -> ChecklistSyncPublic:
    """Progress (found, synced, unchanged, skipped, failed) and a page of the changes."""
    found = service.get(session, sync_id, limit=limit, offset=offset)
    if found is None:
        return await service.not_opened_yet(temporal, sync_id)
    return await service.reconcile(temporal, found)
