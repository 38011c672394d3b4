"""Payloads of ChecklistSyncWorkflow and its activities (changes stay in PostgreSQL)."""

from datetime import datetime

from pydantic import Field

from domain.checklist_sync import DEFAULT_PAGE_SIZE, SyncStatus
from workflows.payloads.common import Payload, signature
from workflows.payloads.resumption import Resumption


class ChecklistSyncProgress(Payload):
    """Counts so far; the same numbers GET /v1/checklist-syncs/{id} shows."""

    sync_id: str
    status: SyncStatus
    dry_run: bool
    template_code: str | None
    total: int = 0  # eligible when the sync opened: the progress bar's length
    found: int = 0
    synced: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    cursor: str | None = None  # last assessment id a committed page covered
    done: bool = False
    error: str | None = None


class StartChecklistSyncInput(Payload):
    """What a sync is started with; `sync_id` None = taken from the workflow id.

    `cursor`, `pages` and `progress` are set only when the run continues as new.
    """

    sync_id: str | None = None
    template_code: str | None = None
    dry_run: bool = False
    actor: str = "system"
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=5000)
    # Continue as new after this many pages even if the SDK does not suggest it yet.
    pages_per_run: int | None = Field(default=None, ge=1)
    progress: ChecklistSyncProgress | None = None
    # Restarted by reconcile: opening finds the row, and the pages go on from its cursor.
    resumed: Resumption | None = None


class OpenChecklistSyncInput(Payload):
    """Activity input: create the sync's row (idempotent) and pin template versions."""

    sync_id: str
    template_code: str | None
    dry_run: bool
    actor: str
    at: datetime


class SyncChecklistPageInput(Payload):
    """Activity input: sync page number `page` (1-based): the next `page_size` eligible ids
    after the cursor the sync's row holds (so a retried page never skips or repeats)."""

    sync_id: str
    page: int
    page_size: int
    at: datetime


class CloseChecklistSyncInput(Payload):
    """Activity input: the sync ended with `status` (and `error` when it failed); the scope
    is repeated so a sync that failed before its row was opened still gets one."""

    sync_id: str
    template_code: str | None
    dry_run: bool
    actor: str
    status: SyncStatus
    error: str | None = None
    at: datetime


class CancelChecklistSyncInput(Payload):
    """Activity input: an operator's cancel stops the sync at `at` (scope as for closing)."""

    sync_id: str
    template_code: str | None
    dry_run: bool
    started_by: str
    actor: str
    note: str | None
    at: datetime


# Activity signatures (see `signature`): saved histories hold these names.
open_checklist_sync = signature(
    "open_checklist_sync", OpenChecklistSyncInput, ChecklistSyncProgress
)
sync_checklist_page = signature(
    "sync_checklist_page", SyncChecklistPageInput, ChecklistSyncProgress
)
close_checklist_sync = signature(
    "close_checklist_sync", CloseChecklistSyncInput, ChecklistSyncProgress
)
cancel_checklist_sync = signature(
    "cancel_checklist_sync", CancelChecklistSyncInput, ChecklistSyncProgress
)
