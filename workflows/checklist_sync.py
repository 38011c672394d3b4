"""ChecklistSyncWorkflow: bring eligible assessments up to their template's latest checks."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from domain.checklist_sync import SyncStatus
from domain.console import NOBODY
from workflows.cancellation import AfterCancel, CurrentStep, on_operator_cancel, operator_of_cancel
from workflows.console import Console
from workflows.descriptions import CHECKLIST_SYNC_HELP
from workflows.payloads.checklist_sync import (
    CancelChecklistSyncInput,
    ChecklistSyncProgress,
    CloseChecklistSyncInput,
    OpenChecklistSyncInput,
    StartChecklistSyncInput,
    SyncChecklistPageInput,
    cancel_checklist_sync,
    close_checklist_sync,
    open_checklist_sync,
    sync_checklist_page,
)
from workflows.refusal import in_words
from workflows.resumption import record_resumption
from workflows.search_keys import keys
from workflows.typevars import A

WORKFLOW_ID_PREFIX = "checklist-sync-"
CASE_KIND = "checklist_sync"
REFUSALS = ["Conflict", "Forbidden", "Invalid", "NotFound"]
SHORT_TIMEOUT = timedelta(seconds=30)
# A page is one transaction of up to ~500 assessments; the heartbeat notices a dead worker.
PAGE_TIMEOUT = timedelta(minutes=10)
PAGE_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Retried without limit: a database outage only delays the sync. Refusals are final.
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), non_retryable_error_types=REFUSALS)


@workflow.defn
class ChecklistSyncWorkflow:
    """One sync run (id `checklist-sync-{id}`), optionally scoped to one template.

    Query: `progress`. No updates or signals.
    Activities: open_checklist_sync, sync_checklist_page (one per page, heartbeating its
    cursor), close_checklist_sync; record_resumption first when reconcile restarted it.
    Continues as new when the SDK suggests it (or after `pages_per_run` pages), carrying
    the counts; the row in `checklist_syncs` is the truth.
    Cancel (Temporal UI or CLI): the page under way finishes (it is one transaction), then
    the sync stops as CANCELLED with the pages done kept (audit row with the operator and
    reason CANCELLED_BY_OPERATOR, `checklist_sync.cancelled`) and the run ends Canceled; a
    later sync takes up what is left. Activities, besides: cancel_checklist_sync,
    find_cancel_requester.
    """

    @workflow.init
    def __init__(self, start: StartChecklistSyncInput) -> None:
        sync_id = start.sync_id or workflow.info().workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
        self._start = start.model_copy(update={"sync_id": sync_id, "resumed": None})
        self._progress = start.progress or ChecklistSyncProgress(
            sync_id=sync_id,
            status=SyncStatus.RUNNING,
            dry_run=start.dry_run,
            template_code=start.template_code,
        )
        self._step = CurrentStep[ChecklistSyncProgress]()
        self._console = Console()

    async def _stop_for_operator(
        self, start: StartChecklistSyncInput
    ) -> ChecklistSyncProgress | AfterCancel:
        """A cancel request: stop as CANCELLED once the page under way has committed."""
        await self._step.finish()
        actor, note = await operator_of_cancel()
        cancel = CancelChecklistSyncInput(
            **self._scope(), started_by=self._start.actor, actor=actor, note=note
        )
        self._progress = await self._call(cancel_checklist_sync, cancel)
        self._publish()
        if self._progress.status == SyncStatus.CANCELLED:
            return AfterCancel.END_CANCELLED
        return self._progress  # it had ended already

    @workflow.run
    @on_operator_cancel(_stop_for_operator)
    async def run(self, start: StartChecklistSyncInput) -> ChecklistSyncProgress:
        """Open (first run only), then one activity per page until none is left, then close."""
        self._publish()
        try:
            if start.resumed is not None:
                await record_resumption(
                    start.resumed, subject_kind=CASE_KIND, subject_id=self._progress.sync_id
                )
            if start.progress is None:
                opening = OpenChecklistSyncInput(**self._scope(), actor=start.actor)
                self._progress = await self._call(open_checklist_sync, opening)
                self._publish()
            pages_this_run = 0
            while not self._progress.done:
                if self._should_continue_as_new(pages_this_run):
                    workflow.continue_as_new(
                        self._start.model_copy(update={"progress": self._progress})
                    )
                self._progress = await self._call(
                    sync_checklist_page,
                    SyncChecklistPageInput(
                        sync_id=self._progress.sync_id,
                        page=self._progress.pages + 1,
                        page_size=start.page_size,
                        at=workflow.now(),
                    ),
                    heartbeat=True,
                )
                pages_this_run += 1
                self._publish()
        except ActivityError as error:
            await self._close(SyncStatus.FAILED, _reason(error))
            raise ApplicationError(
                f"check-list sync failed: {_reason(error)}", non_retryable=True
            ) from error
        return await self._close(SyncStatus.COMPLETED)

    @workflow.query(description=CHECKLIST_SYNC_HELP["progress"])
    def progress(self) -> ChecklistSyncProgress:
        """Counts so far: found, synced, unchanged, skipped, failed."""
        return self._progress

    def _should_continue_as_new(self, pages_this_run: int) -> bool:
        if pages_this_run == 0:
            return False  # always make progress before handing over
        limit = self._start.pages_per_run
        return workflow.info().is_continue_as_new_suggested() or (
            limit is not None and pages_this_run >= limit
        )

    async def _close(self, status: SyncStatus, error: str | None = None) -> ChecklistSyncProgress:
        closing = CloseChecklistSyncInput(
            **self._scope(), actor=self._start.actor, status=status, error=error
        )
        self._progress = await self._call(close_checklist_sync, closing)
        self._publish()
        return self._progress

    def _scope(self) -> dict[str, Any]:
        """What names the sync in its activities' inputs (and the time they are made)."""
        return {
            "sync_id": self._progress.sync_id,
            "template_code": self._start.template_code,
            "dry_run": self._start.dry_run,
            "at": workflow.now(),
        }

    async def _call(
        self,
        activity: Callable[[A], Awaitable[ChecklistSyncProgress]],
        arg: A,
        *,
        heartbeat: bool = False,
    ) -> ChecklistSyncProgress:
        """Run one activity; an operator's cancel lets it finish (a page is never cut)."""
        return await self._step.run(
            workflow.execute_activity(
                activity,
                arg,
                start_to_close_timeout=PAGE_TIMEOUT if heartbeat else SHORT_TIMEOUT,
                heartbeat_timeout=PAGE_HEARTBEAT_TIMEOUT if heartbeat else None,
                retry_policy=RETRY,
                summary=in_words(activity),
            )
        )

    def _publish(self) -> None:
        """Search attributes and details an operator sees in the Temporal UI."""
        p = self._progress
        updates: list[SearchAttributeUpdate[Any]] = [
            keys.CASE_KIND.value_set(CASE_KIND),
            keys.CASE_STATUS.value_set([p.status.value, *(["DRY_RUN"] if p.dry_run else [])]),
        ]
        if p.template_code is not None:
            updates.append(keys.TEMPLATE_CODE.value_set(p.template_code))
        self._console.show(
            NOBODY,  # a sync works on its own; an operator may only cancel it
            updates,
            f"**{p.status.value}**{' (dry run)' if p.dry_run else ''} · "
            f"template {p.template_code or 'all'} · {p.found}/{p.total} found · "
            f"synced {p.synced} · unchanged {p.unchanged} · skipped {p.skipped} · "
            f"failed {p.failed} · page {p.pages} · cursor {p.cursor or '-'}",
        )


def _reason(error: ActivityError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or error)
